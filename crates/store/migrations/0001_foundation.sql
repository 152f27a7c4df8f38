-- Foundation: accounts, API keys, seller onboarding and certification,
-- categories, products with SKUs and reviews, uploaded media.
-- Types marked %TS% are TIMESTAMPTZ on PostgreSQL and TEXT on SQLite.

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at %TS% NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    lookup TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    created_at %TS% NOT NULL,
    expires_at %TS%,
    revoked_at %TS%,
    last_used_at %TS%
);
CREATE INDEX api_keys_by_account ON api_keys(account_id, id);

CREATE TABLE seller_onboarding (
    seller_id TEXT PRIMARY KEY REFERENCES accounts(id),
    status TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    legal_name TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    contact_name TEXT NOT NULL,
    contact_phone TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    address TEXT NOT NULL,
    support_hours TEXT NOT NULL,
    reason TEXT,
    submitted_at %TS%,
    decided_at %TS%,
    updated_at %TS% NOT NULL
);
CREATE INDEX seller_onboarding_by_status ON seller_onboarding(status, seller_id);

CREATE TABLE seller_certification (
    seller_id TEXT PRIMARY KEY REFERENCES accounts(id),
    status TEXT NOT NULL,
    bank_name TEXT NOT NULL,
    bank_account_enc TEXT NOT NULL,
    bank_account_masked TEXT NOT NULL,
    account_holder TEXT NOT NULL,
    tax_rate_bp BIGINT NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT,
    submitted_at %TS%,
    decided_at %TS%,
    updated_at %TS% NOT NULL
);
CREATE INDEX seller_certification_by_status ON seller_certification(status, seller_id);

CREATE TABLE seller_agreements (
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    version TEXT NOT NULL,
    accepted_at %TS% NOT NULL,
    PRIMARY KEY (seller_id, version)
);

-- Every operator decision on an onboarding or certification application.
CREATE TABLE application_decisions (
    id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    application TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT,
    operator_id TEXT NOT NULL REFERENCES accounts(id),
    decided_at %TS% NOT NULL
);
CREATE INDEX application_decisions_by_seller ON application_decisions(seller_id, id);

CREATE TABLE categories (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES categories(id),
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at %TS% NOT NULL
);

CREATE TABLE products (
    id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    product_type TEXT NOT NULL,
    cooperation TEXT NOT NULL,
    status TEXT NOT NULL,
    revision_state TEXT NOT NULL,
    -- The working copy the seller edits.
    content_json TEXT NOT NULL,
    logo_media_id TEXT,
    images_json TEXT NOT NULL,
    endpoint_url TEXT,
    endpoint_key_enc TEXT,
    -- The approved version buyers see, and the columns the catalog searches.
    listed_json TEXT,
    pub_name TEXT,
    pub_search TEXT,
    pub_category_id TEXT,
    pub_price_minor BIGINT,
    pub_currency TEXT,
    pub_modes TEXT,
    listed_at %TS%,
    created_at %TS% NOT NULL,
    updated_at %TS% NOT NULL
);
CREATE INDEX products_by_seller ON products(seller_id, id);
CREATE INDEX products_public ON products(status, listed_at, id);

CREATE TABLE skus (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    sku_code TEXT NOT NULL,
    status TEXT NOT NULL,
    charging_mode TEXT NOT NULL,
    currency TEXT NOT NULL,
    spec_json TEXT NOT NULL,
    entry_price_minor BIGINT,
    created_at %TS% NOT NULL,
    UNIQUE (product_id, sku_code)
);

CREATE TABLE product_reviews (
    id TEXT PRIMARY KEY,
    product_id TEXT NOT NULL REFERENCES products(id),
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    snapshot_json TEXT NOT NULL,
    reason TEXT,
    decided_by TEXT REFERENCES accounts(id),
    submitted_at %TS% NOT NULL,
    decided_at %TS%
);
-- At most one pending review per product: concurrent submits produce one review.
CREATE UNIQUE INDEX product_reviews_one_pending ON product_reviews(product_id) WHERE status = 'pending';
CREATE INDEX product_reviews_by_status ON product_reviews(status, id);
CREATE INDEX product_reviews_by_product ON product_reviews(product_id, id);

CREATE TABLE media (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES accounts(id),
    product_id TEXT REFERENCES products(id),
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    created_at %TS% NOT NULL
);
