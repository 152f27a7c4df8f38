-- Failed password logins per scope ('account:<email>' or 'source:<address>'):
-- the count within the current window and, once past the limit, until when
-- the scope is locked (domain::login_throttle). Times are real time.
CREATE TABLE login_throttle (
    scope TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start %TS% NOT NULL,
    locked_until %TS%
);
