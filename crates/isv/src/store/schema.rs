//! The reference seller's tables. Created at open with
//! `CREATE TABLE IF NOT EXISTS`, so opening is also migrating; there is
//! only one schema version so far.

/// Statements run in order at open.
pub(super) const MIGRATIONS: &[&str] = &[
    // One row per provisioned instance. (order_id, order_line_id) is the
    // spec's idempotency key for newInstance, enforced by the database so two
    // concurrent retries cannot both create an instance.
    "CREATE TABLE IF NOT EXISTS instances (
        instance_id    TEXT PRIMARY KEY,
        order_id       TEXT NOT NULL,
        order_line_id  TEXT NOT NULL,
        business_id    TEXT NOT NULL,
        status         TEXT NOT NULL,
        expire_time    TEXT,
        product_id     TEXT,
        sku_code       TEXT,
        test_flag      INTEGER NOT NULL,
        front_end_url  TEXT NOT NULL,
        admin_url      TEXT NOT NULL,
        user_name      TEXT NOT NULL,
        password       TEXT NOT NULL,
        memo           TEXT NOT NULL,
        ready_at_ms    INTEGER NOT NULL,
        created_at_ms  INTEGER NOT NULL,
        updated_at_ms  INTEGER NOT NULL,
        released_at_ms INTEGER,
        UNIQUE (order_id, order_line_id)
    )",
    // How many newInstance calls each order line received (retries
    // included): the instance is created once, the calls are counted.
    "CREATE TABLE IF NOT EXISTS new_instance_calls (
        order_id      TEXT NOT NULL,
        order_line_id TEXT NOT NULL,
        calls         INTEGER NOT NULL,
        PRIMARY KEY (order_id, order_line_id)
    )",
    // Every order that touched an instance (new, upgrade, renewals, refunds).
    "CREATE TABLE IF NOT EXISTS instance_orders (
        instance_id   TEXT NOT NULL,
        kind          TEXT NOT NULL,
        order_id      TEXT NOT NULL,
        order_line_id TEXT NOT NULL,
        at_ms         INTEGER NOT NULL,
        PRIMARY KEY (instance_id, kind, order_id, order_line_id)
    )",
    "CREATE TABLE IF NOT EXISTS order_notifications (
        order_id       TEXT NOT NULL,
        order_line_id  TEXT NOT NULL,
        test_flag      INTEGER NOT NULL,
        times_received INTEGER NOT NULL,
        first_at_ms    INTEGER NOT NULL,
        last_at_ms     INTEGER NOT NULL,
        PRIMARY KEY (order_id, order_line_id)
    )",
    "CREATE TABLE IF NOT EXISTS kit_tenants (
        instance_id TEXT NOT NULL,
        tenant_id   TEXT NOT NULL,
        order_id    TEXT NOT NULL,
        tenant_code TEXT NOT NULL,
        name        TEXT NOT NULL,
        domain_name TEXT NOT NULL,
        PRIMARY KEY (instance_id, tenant_id)
    )",
    "CREATE TABLE IF NOT EXISTS kit_applications (
        instance_id   TEXT NOT NULL,
        tenant_id     TEXT NOT NULL,
        app_id        TEXT NOT NULL,
        client_id     TEXT NOT NULL,
        client_secret TEXT NOT NULL,
        PRIMARY KEY (instance_id, tenant_id, app_id)
    )",
    // `data` keeps the user object as received (optional fields, extension{}).
    "CREATE TABLE IF NOT EXISTS kit_users (
        instance_id TEXT NOT NULL,
        tenant_id   TEXT NOT NULL,
        app_id      TEXT NOT NULL,
        user_name   TEXT NOT NULL,
        name        TEXT NOT NULL,
        org_code    TEXT NOT NULL,
        role        TEXT NOT NULL,
        revoked     INTEGER NOT NULL,
        data        TEXT NOT NULL,
        PRIMARY KEY (instance_id, tenant_id, app_id, user_name)
    )",
    "CREATE TABLE IF NOT EXISTS kit_orgs (
        instance_id TEXT NOT NULL,
        tenant_id   TEXT NOT NULL,
        org_code    TEXT NOT NULL,
        org_name    TEXT NOT NULL,
        parent_code TEXT NOT NULL,
        PRIMARY KEY (instance_id, tenant_id, org_code)
    )",
    // One license per (order_id, order_line_id): a repeated request returns
    // the license created first, as the KooGallery guide demands. The later
    // license calls name it by instance_id (the first request's businessId).
    "CREATE TABLE IF NOT EXISTS license_codes (
        order_id      TEXT NOT NULL,
        order_line_id TEXT NOT NULL,
        instance_id   TEXT NOT NULL UNIQUE,
        license_code  TEXT NOT NULL,
        status        TEXT NOT NULL,
        expire_time   TEXT,
        data          TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        PRIMARY KEY (order_id, order_line_id)
    )",
];
