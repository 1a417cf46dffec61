-- The workspace's tables (SQLite). Weeks are the ISO week's Monday as a local date in the
-- reporting timezone ('2026-11-16'); instants are UTC ISO 8601 text ('2026-11-24T06:30:00.000000Z').
create table if not exists drafts (
    account_id text not null,
    week_start text not null,       -- Monday of the ISO week, local date
    body text not null,             -- the update as the advisor left it (Markdown source, untrusted)
    version integer not null,       -- 1 on the first save, +1 on every save: a stale save is refused
    updated_at text not null,       -- UTC
    updated_by text not null,       -- the signed-in user's email, or 'local' without sign-in
    primary key (account_id, week_start)
);
create table if not exists sent_updates (
    sent_id integer primary key autoincrement,
    account_id text not null,
    week_start text not null,
    body text not null,             -- exactly the text marked sent
    sent_at text not null,          -- UTC
    sent_by text not null
);
create index if not exists sent_updates_by_account on sent_updates (account_id, week_start, sent_at);
