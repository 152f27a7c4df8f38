-- Sellers' open-API credentials (AK/SK) for calls into the marketplace
-- (order query, usage push). The secret key is needed to verify request
-- signatures, so it is stored encrypted (not hashed).
CREATE TABLE open_api_credentials (
    access_key_id TEXT PRIMARY KEY,
    seller_id TEXT NOT NULL REFERENCES accounts(id),
    secret_enc TEXT NOT NULL,
    created_at %TS% NOT NULL,
    revoked_at %TS%,
    last_used_at %TS%
);
CREATE INDEX open_api_credentials_by_seller ON open_api_credentials(seller_id, created_at);
