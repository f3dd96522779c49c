#include "migrations.h"

#include <array>

namespace schakel::store {
namespace {

// Version 1: node identity, keys, partners, users.
constexpr std::string_view kV1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE identity (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  sign_pk  BLOB NOT NULL CHECK (length(sign_pk) = 32),
  sign_sk  BLOB NOT NULL CHECK (length(sign_sk) = 64),
  created  TEXT NOT NULL
);
CREATE TABLE enc_keys (
  key_id      INTEGER PRIMARY KEY,
  public_key  BLOB NOT NULL CHECK (length(public_key) = 32),
  secret_key  BLOB CHECK (secret_key IS NULL OR length(secret_key) = 32),
  signature   BLOB NOT NULL CHECK (length(signature) = 64),
  created     TEXT NOT NULL,
  retired_at  TEXT,
  wiped_at    TEXT
);
CREATE TABLE tls_identity (
  id           INTEGER PRIMARY KEY,
  cert_pem     TEXT NOT NULL,
  key_pem      BLOB NOT NULL,
  spki_sha256  BLOB NOT NULL CHECK (length(spki_sha256) = 32),
  created      TEXT NOT NULL,
  retired_at   TEXT
);
CREATE TABLE partners (
  node_id          TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  org_type         TEXT NOT NULL,
  address          TEXT NOT NULL,
  sign_pk          BLOB NOT NULL CHECK (length(sign_pk) = 32),
  enc_pk           BLOB NOT NULL CHECK (length(enc_pk) = 32),
  enc_pk_sig       BLOB NOT NULL CHECK (length(enc_pk_sig) = 64),
  tls_spki_sha256  BLOB NOT NULL CHECK (length(tls_spki_sha256) = 32),
  card_created     TEXT NOT NULL,
  card_json        TEXT NOT NULL,
  added            TEXT NOT NULL,
  updated          TEXT NOT NULL
);
CREATE TABLE users (
  user_id     TEXT PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  role        TEXT NOT NULL CHECK (role IN ('staff', 'coordinator', 'auditor', 'admin')),
  token_hash  BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  created     TEXT NOT NULL,
  disabled_at TEXT
);
)sql";

// Version 2: cases, consents, shares and their delivery queue, the inbox,
// and the append-only audit log.
constexpr std::string_view kV2 = R"sql(
CREATE TABLE cases (
  case_id     TEXT PRIMARY KEY,
  student_id  TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  created     TEXT NOT NULL,
  updated     TEXT NOT NULL,
  version     INTEGER NOT NULL
);
CREATE INDEX cases_student ON cases (student_id);
CREATE TABLE case_versions (
  case_id     TEXT NOT NULL REFERENCES cases (case_id),
  version     INTEGER NOT NULL,
  summary     TEXT NOT NULL,
  updated_by  TEXT NOT NULL,
  updated     TEXT NOT NULL,
  PRIMARY KEY (case_id, version)
);
CREATE TABLE case_assignments (
  case_id  TEXT NOT NULL REFERENCES cases (case_id),
  user_id  TEXT NOT NULL,
  PRIMARY KEY (case_id, user_id)
);
CREATE TABLE consents (
  consent_id    TEXT PRIMARY KEY,
  subject_id    TEXT NOT NULL,
  grantor_role  TEXT NOT NULL CHECK (grantor_role IN ('ouder', 'jongere')),
  purposes      TEXT NOT NULL,
  recipients    TEXT NOT NULL,
  categories    TEXT NOT NULL,
  valid_from    TEXT NOT NULL,
  valid_until   TEXT,
  withdrawn_at  TEXT,
  withdrawn_by  TEXT,
  recorded_by   TEXT NOT NULL,
  recorded_at   TEXT NOT NULL,
  evidence      TEXT NOT NULL
);
CREATE INDEX consents_subject ON consents (subject_id);
CREATE TABLE shares (
  message_id     TEXT PRIMARY KEY,
  case_id        TEXT NOT NULL,
  case_version   INTEGER NOT NULL,
  student_id     TEXT NOT NULL,
  recipient_id   TEXT NOT NULL,
  recipient_type TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  legal_basis    TEXT NOT NULL,
  categories     TEXT NOT NULL,
  withheld       TEXT NOT NULL,
  consent_ids    TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('pending_approval', 'queued', 'delivered',
                                                'cancelled', 'revoked', 'purged')),
  requested_by   TEXT NOT NULL,
  approved_by    TEXT,
  justification  TEXT,
  created        TEXT NOT NULL,
  retain_until   TEXT NOT NULL,
  body_hash      BLOB,
  receipt        BLOB,
  delivered_at   TEXT,
  state_reason   TEXT,
  state_changed  TEXT NOT NULL
);
CREATE INDEX shares_state ON shares (state);
CREATE INDEX shares_case ON shares (case_id);
CREATE TABLE outgoing (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('share', 'revocation')),
  message_id    TEXT NOT NULL,
  recipient_id  TEXT NOT NULL,
  payload       BLOB NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_attempt  INTEGER NOT NULL,
  last_error    TEXT,
  created       TEXT NOT NULL,
  UNIQUE (kind, message_id)
);
CREATE INDEX outgoing_due ON outgoing (next_attempt);
CREATE TABLE inbox (
  sender_id     TEXT NOT NULL,
  message_id    TEXT NOT NULL,
  student_id    TEXT,
  purpose       TEXT NOT NULL,
  categories    TEXT NOT NULL,
  consent_ids   TEXT NOT NULL,
  created       TEXT NOT NULL,
  received      TEXT NOT NULL,
  retain_until  TEXT NOT NULL,
  summary       TEXT,
  body_hash     BLOB NOT NULL,
  receipt       BLOB NOT NULL,
  state         TEXT NOT NULL CHECK (state IN ('received', 'purged')),
  purged_at     TEXT,
  purge_reason  TEXT,
  PRIMARY KEY (sender_id, message_id)
);
CREATE INDEX inbox_retain ON inbox (state, retain_until);
CREATE TABLE audit_log (
  seq          INTEGER PRIMARY KEY,
  ts           TEXT NOT NULL,
  actor_user   TEXT NOT NULL,
  actor_role   TEXT NOT NULL,
  actor_org    TEXT NOT NULL,
  action       TEXT NOT NULL,
  subject      TEXT NOT NULL,
  object       TEXT NOT NULL,
  purpose      TEXT NOT NULL,
  legal_basis  TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  reason       TEXT NOT NULL,
  source       TEXT NOT NULL,
  prev_hash    BLOB NOT NULL CHECK (length(prev_hash) = 32),
  hash         BLOB NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_subject ON audit_log (subject);
CREATE TABLE audit_checkpoints (
  seq   INTEGER PRIMARY KEY,
  hash  BLOB NOT NULL CHECK (length(hash) = 32),
  ts    TEXT NOT NULL,
  sig   BLOB NOT NULL CHECK (length(sig) = 64)
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
)sql";

// Version 3: INSERT OR REPLACE deletes the old row without firing the
// DELETE triggers (recursive_triggers is off); refuse an insert over an
// existing seq, so the audit tables stay append-only.
constexpr std::string_view kV3 = R"sql(
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
  WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
  WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
)sql";

// Version 4: dossier links (docs/links.md) and the HTTPS identity of the
// link server and the console. A link row keeps only what is needed to find
// it by its URL token (the token's SHA-256) and the content sealed under a
// key derived from the URL secret and the access code; neither the token
// nor the code is stored.
constexpr std::string_view kV4 = R"sql(
CREATE TABLE links (
  link_id          TEXT PRIMARY KEY,
  token_hash       BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
  case_id          TEXT NOT NULL,
  case_version     INTEGER NOT NULL,
  student_id       TEXT NOT NULL,
  recipient_name   TEXT NOT NULL,
  recipient_type   TEXT NOT NULL,
  purpose          TEXT NOT NULL,
  legal_basis      TEXT NOT NULL,
  categories       TEXT NOT NULL,
  withheld         TEXT NOT NULL,
  consent_ids      TEXT NOT NULL,
  created_by       TEXT NOT NULL,
  created          TEXT NOT NULL,
  expires          TEXT NOT NULL,
  kdf_salt         BLOB,
  nonce            BLOB,
  ciphertext       BLOB,
  failed_attempts  INTEGER NOT NULL DEFAULT 0,
  state            TEXT NOT NULL CHECK (state IN ('active', 'locked', 'revoked', 'expired', 'purged')),
  state_reason     TEXT,
  state_changed    TEXT NOT NULL,
  last_read        TEXT
);
CREATE INDEX links_case ON links (case_id);
CREATE INDEX links_state ON links (state, expires);
CREATE TABLE web_tls (
  id        INTEGER PRIMARY KEY CHECK (id = 1),
  cert_pem  TEXT NOT NULL,
  key_pem   BLOB NOT NULL,
  created   TEXT NOT NULL
);
)sql";

// Version 5: console sign-in for users: an Argon2id password hash (libsodium's
// crypto_pwhash_str format) and a TOTP secret (RFC 6238) with the last time
// step used, so a code cannot be replayed.
constexpr std::string_view kV5 = R"sql(
CREATE TABLE user_credentials (
  user_id         TEXT PRIMARY KEY REFERENCES users (user_id),
  password_hash   TEXT NOT NULL,
  totp_secret     BLOB CHECK (totp_secret IS NULL OR length(totp_secret) = 20),
  totp_last_step  INTEGER NOT NULL DEFAULT 0,
  updated         TEXT NOT NULL
);
)sql";

// Version 6: shares get the in-flight state `sending` (sealed and on its
// way; a withdrawal then needs a revocation, not a cancellation) and
// `refused` (the recipient's gate said no, with a code in state_reason).
// SQLite cannot change a CHECK constraint in place: the table is rebuilt.
constexpr std::string_view kV6 = R"sql(
CREATE TABLE shares_v6 (
  message_id     TEXT PRIMARY KEY,
  case_id        TEXT NOT NULL,
  case_version   INTEGER NOT NULL,
  student_id     TEXT NOT NULL,
  recipient_id   TEXT NOT NULL,
  recipient_type TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  legal_basis    TEXT NOT NULL,
  categories     TEXT NOT NULL,
  withheld       TEXT NOT NULL,
  consent_ids    TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('pending_approval', 'queued', 'sending', 'delivered',
                                                'cancelled', 'revoked', 'purged', 'refused')),
  requested_by   TEXT NOT NULL,
  approved_by    TEXT,
  justification  TEXT,
  created        TEXT NOT NULL,
  retain_until   TEXT NOT NULL,
  body_hash      BLOB,
  receipt        BLOB,
  delivered_at   TEXT,
  state_reason   TEXT,
  state_changed  TEXT NOT NULL
);
INSERT INTO shares_v6 (message_id, case_id, case_version, student_id, recipient_id, recipient_type, purpose,
                       legal_basis, categories, withheld, consent_ids, state, requested_by, approved_by,
                       justification, created, retain_until, body_hash, receipt, delivered_at, state_reason,
                       state_changed)
  SELECT message_id, case_id, case_version, student_id, recipient_id, recipient_type, purpose, legal_basis,
         categories, withheld, consent_ids, state, requested_by, approved_by, justification, created,
         retain_until, body_hash, receipt, delivered_at, state_reason, state_changed FROM shares;
DROP TABLE shares;
ALTER TABLE shares_v6 RENAME TO shares;
CREATE INDEX shares_state ON shares (state);
CREATE INDEX shares_case ON shares (case_id);
)sql";

// Version 7: the recipient's gate counts what each partner sent (docs/consent.md
// "The recipient's gate"): each inbox row keeps the size of its summary, which
// stays counted after a purge, and an index finds a partner's rows by time.
constexpr std::string_view kV7 = R"sql(
ALTER TABLE inbox ADD COLUMN summary_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE inbox SET summary_bytes = length(CAST(summary AS BLOB)) WHERE summary IS NOT NULL;
CREATE INDEX inbox_sender_received ON inbox (sender_id, received);
)sql";

// Version 8: need to know inside the organisation (docs/students.md). The
// student register: cases are made only for registered students, and the
// consent engine takes the birth date from here. Students of the cases made
// before it are registered from their latest case, with an empty name (shown
// as "not yet imported") until a coordinator imports the roster. A received
// share waits in the coordinators' queue until it is assigned to a user, or a
// route a coordinator confirmed assigns it on arrival.
constexpr std::string_view kV8 = R"sql(
CREATE TABLE students (
  student_id  TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  birth_date  TEXT NOT NULL,
  guardians   TEXT NOT NULL,
  added       TEXT NOT NULL,
  updated     TEXT NOT NULL,
  updated_by  TEXT NOT NULL
);
INSERT INTO students (student_id, name, birth_date, guardians, added, updated, updated_by)
  SELECT student_id, '', birth_date, '[]', created, max(updated), 'migration' FROM cases GROUP BY student_id;
ALTER TABLE inbox ADD COLUMN assigned_to TEXT;
ALTER TABLE inbox ADD COLUMN assigned_by TEXT;
CREATE TABLE inbox_routes (
  sender_id     TEXT NOT NULL,
  student_id    TEXT NOT NULL,
  user_id       TEXT NOT NULL,
  confirmed_by  TEXT NOT NULL,
  confirmed     TEXT NOT NULL,
  PRIMARY KEY (sender_id, student_id)
);
)sql";

// Version 9: the end of an account (issue 16, "Accounts end"). Per user: when
// the bearer token expires (users who exist at migration get 90 days from the
// migration: SQL cannot read [users] token_days, and 90 is its default);
// when it was removed (the row stays, cases and the audit log name its id);
// a content role waiting for a coordinator's confirmation (pending_role,
// requested by pending_by), with `active` 0 for a new account that may not
// sign in before it; who confirmed the last grant ('bootstrap' for a node's
// first coordinator); and auth_epoch, raised by every change that must end
// the user's console sessions (disable, enable, remove, token, password).
constexpr std::string_view kV9 = R"sql(
ALTER TABLE users ADD COLUMN token_expires TEXT;
ALTER TABLE users ADD COLUMN removed_at TEXT;
ALTER TABLE users ADD COLUMN pending_role TEXT
  CHECK (pending_role IS NULL OR pending_role IN ('staff', 'coordinator'));
ALTER TABLE users ADD COLUMN pending_by TEXT;
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1));
ALTER TABLE users ADD COLUMN confirmed_by TEXT;
ALTER TABLE users ADD COLUMN auth_epoch INTEGER NOT NULL DEFAULT 0;
UPDATE users SET token_expires = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+90 days');
UPDATE users SET confirmed_by = 'migration' WHERE role IN ('staff', 'coordinator');
)sql";

// Version 10: audit entry format 2 (docs/audit.md; issue 16, "Auditors can
// answer the question"). Entries say what went to whom: the recipient, the
// categories and the consent ids relied on. The entries already written stay
// format 1 (their hash covers twelve fields and is never recomputed); ADD
// COLUMN changes no row, so the no-update triggers stay quiet and the chain
// verifies as it did.
constexpr std::string_view kV10 = R"sql(
ALTER TABLE audit_log ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN recipient TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN categories TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN consents TEXT NOT NULL DEFAULT '';
)sql";

// Version 11: the inbound quota (peer/src/inbox_gate.cpp) sums a sender's
// summary_bytes of the last day on every arrival. The old index held only
// (sender_id, received), so each row of the day was read whole, summary
// and all: an arrival cost more the more that sender had sent today
// (bench/lanes_bench.cpp, row 1c). The index now covers the sum.
constexpr std::string_view kV11 = R"sql(
DROP INDEX inbox_sender_received;
CREATE INDEX inbox_sender_received_bytes ON inbox (sender_id, received, summary_bytes);
)sql";

// Version 12: a recipient takes a received share into its own dossier
// (issue 24; docs/legal-basis.md "Adopted into the dossier"): by whom, when,
// on which legal basis. The row stays `received`; once adopted, neither the
// retention sweep nor a revocation purges it.
constexpr std::string_view kV12 = R"sql(
ALTER TABLE inbox ADD COLUMN adopted_at TEXT;
ALTER TABLE inbox ADD COLUMN adopted_by TEXT;
ALTER TABLE inbox ADD COLUMN adopted_basis TEXT;
)sql";

// Version 13: the function a user holds inside the organisation (issue 24;
// `[meldcode] approver_role`): the Besluit verplichte meldcode lets the
// organisation name the function that decides on a report. NULL: none.
constexpr std::string_view kV13 = R"sql(
ALTER TABLE users ADD COLUMN function TEXT;
)sql";

// Version 14: permission requests (issue 17; docs/consent-requests.md). A
// request names what a coordinator asks permission for; each grantor the
// student's age needs has a row of its own with its own link (the SHA-256
// of its token and the sealed page, as for dossier links) and, once
// answered, the answer kept as evidence. An inzage link lets a parent or
// the young person read what was shared about the student (AVG art. 15). A
// consent says which parent gave
// it (two households) and which request it answered; the consents kept
// from before name neither ('').
constexpr std::string_view kV14 = R"sql(
ALTER TABLE consents ADD COLUMN guardian TEXT NOT NULL DEFAULT '';
ALTER TABLE consents ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
CREATE TABLE consent_requests (
  request_id TEXT PRIMARY KEY,
  student_id TEXT NOT NULL,
  purposes TEXT NOT NULL,
  recipients TEXT NOT NULL,
  categories TEXT NOT NULL,
  valid_from TEXT NOT NULL,
  valid_until TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created TEXT NOT NULL,
  expires TEXT NOT NULL,
  text_version TEXT NOT NULL
);
CREATE INDEX consent_requests_student ON consent_requests (student_id, created);
CREATE TABLE consent_request_grantors (
  grant_id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES consent_requests (request_id),
  grantor_role TEXT NOT NULL CHECK (grantor_role IN ('ouder', 'jongere')),
  guardian TEXT NOT NULL DEFAULT '',
  token_hash BLOB NOT NULL UNIQUE,
  kdf_salt BLOB,
  nonce BLOB,
  ciphertext BLOB,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL
    CHECK (state IN ('open', 'agreed', 'refused', 'locked', 'expired', 'withdrawn', 'ended')),
  state_changed TEXT NOT NULL,
  answer TEXT NOT NULL DEFAULT '',
  consent_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consent_request_grantors_request ON consent_request_grantors (request_id);
CREATE TABLE inzage_links (
  link_id TEXT PRIMARY KEY,
  student_id TEXT NOT NULL,
  grantor_role TEXT NOT NULL CHECK (grantor_role IN ('ouder', 'jongere')),
  token_hash BLOB NOT NULL UNIQUE,
  kdf_salt BLOB,
  nonce BLOB,
  ciphertext BLOB,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('active', 'locked', 'expired')),
  created_by TEXT NOT NULL,
  created TEXT NOT NULL,
  expires TEXT NOT NULL
);
)sql";

// Who has opened which received share (the console's "nieuw" marker and the
// start page's count): a row per user and share; shares kept from before
// count as unread for everyone.
constexpr std::string_view kV15 = R"sql(
CREATE TABLE inbox_seen (
  sender_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  seen_at TEXT NOT NULL,
  PRIMARY KEY (sender_id, message_id, user_id)
);
)sql";

// E-mail notices ([notify]): a user's address, and per user what the last
// notice counted, so a notice goes out only when something new waits.
constexpr std::string_view kV16 = R"sql(
ALTER TABLE users ADD COLUMN email TEXT;
CREATE TABLE notice_state (
  user_id TEXT PRIMARY KEY,
  new_shares INTEGER NOT NULL,
  meldcode_waiting INTEGER NOT NULL,
  notified_at TEXT
);
)sql";

// Version 17: audit retention (issue 20; docs/audit.md "Retention"). The
// oldest whole segments of the log -- entries up to a signed checkpoint --
// are deleted once every entry in them is older than [audit]
// retention_years. audit_segments keeps each boundary (the checkpoint's seq,
// hash, time and signature), so what remains verifies from it; only entries
// at or before the latest boundary may be deleted, and checkpoints only
// before it (the boundary's own checkpoint stays as the export's first line).
// The boundaries themselves are append-only and move forward only.
constexpr std::string_view kV17 = R"sql(
CREATE TABLE audit_segments (
  through_seq INTEGER PRIMARY KEY,
  hash        BLOB NOT NULL CHECK (length(hash) = 32),
  ts          TEXT NOT NULL,
  sig         BLOB NOT NULL CHECK (length(sig) = 64),
  cutoff      TEXT NOT NULL,
  deleted_at  TEXT NOT NULL,
  entries     INTEGER NOT NULL
);
CREATE TRIGGER audit_segments_no_update BEFORE UPDATE ON audit_segments
  BEGIN SELECT RAISE(ABORT, 'audit segment boundaries are append-only'); END;
CREATE TRIGGER audit_segments_no_delete BEFORE DELETE ON audit_segments
  BEGIN SELECT RAISE(ABORT, 'audit segment boundaries are append-only'); END;
CREATE TRIGGER audit_segments_forward BEFORE INSERT ON audit_segments
  WHEN EXISTS (SELECT 1 FROM audit_segments WHERE through_seq >= NEW.through_seq)
  BEGIN SELECT RAISE(ABORT, 'audit segment boundaries only move forward'); END;
DROP TRIGGER audit_log_no_delete;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  WHEN OLD.seq > (SELECT COALESCE(MAX(through_seq), 0) FROM audit_segments)
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
DROP TRIGGER audit_checkpoints_no_delete;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
  WHEN OLD.seq >= (SELECT COALESCE(MAX(through_seq), 0) FROM audit_segments)
  BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
)sql";

// Version 18: partners witness each other's audit checkpoints
// (docs/audit.md "Witnessing"). audit_witnesses: at the node whose log it
// is, the countersignatures its partners returned, with the seq, hash and
// time they countersigned (kept even when the log is rewritten later: that
// is what exposes the rewrite). audit_witnessed: at the partner, the other
// nodes' checkpoints it verified and countersigned. audit_witness_peers: per
// partner, why it does not witness (an older release). The first two are
// append-only like the log.
constexpr std::string_view kV18 = R"sql(
CREATE TABLE audit_witnesses (
  seq          INTEGER NOT NULL,
  witness_id   TEXT NOT NULL,
  hash         BLOB NOT NULL CHECK (length(hash) = 32),
  ts           TEXT NOT NULL,
  sig          BLOB NOT NULL CHECK (length(sig) = 64),
  received_at  TEXT NOT NULL,
  PRIMARY KEY (seq, witness_id)
);
CREATE TABLE audit_witnessed (
  node_id      TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  hash         BLOB NOT NULL CHECK (length(hash) = 32),
  ts           TEXT NOT NULL,
  sig          BLOB NOT NULL CHECK (length(sig) = 64),
  countersig   BLOB NOT NULL CHECK (length(countersig) = 64),
  witnessed_at TEXT NOT NULL,
  PRIMARY KEY (node_id, seq)
);
CREATE TABLE audit_witness_peers (
  witness_id   TEXT PRIMARY KEY,
  state        TEXT NOT NULL,
  detail       TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE TRIGGER audit_witnesses_no_update BEFORE UPDATE ON audit_witnesses
  BEGIN SELECT RAISE(ABORT, 'audit witnesses are append-only'); END;
CREATE TRIGGER audit_witnesses_no_delete BEFORE DELETE ON audit_witnesses
  BEGIN SELECT RAISE(ABORT, 'audit witnesses are append-only'); END;
CREATE TRIGGER audit_witnessed_no_update BEFORE UPDATE ON audit_witnessed
  BEGIN SELECT RAISE(ABORT, 'witnessed checkpoints are append-only'); END;
CREATE TRIGGER audit_witnessed_no_delete BEFORE DELETE ON audit_witnessed
  BEGIN SELECT RAISE(ABORT, 'witnessed checkpoints are append-only'); END;
)sql";

// Version 19: repeated denials counted, not logged one by one (issue 25;
// audit/repeats.h, docs/audit.md "Repeated denials"). A row per kind of
// event (action, object, outcome, reason) and UTC hour: the event's other
// fields as its first entry had them, and how many more came, when the
// first and the last of those came. Flushed into one entry once the hour
// has ended, then deleted.
constexpr std::string_view kV19 = R"sql(
CREATE TABLE audit_repeats (
  action       TEXT NOT NULL,
  object       TEXT NOT NULL,
  outcome      TEXT NOT NULL,
  reason       TEXT NOT NULL,
  hour         TEXT NOT NULL,
  actor_user   TEXT NOT NULL,
  actor_role   TEXT NOT NULL,
  actor_org    TEXT NOT NULL,
  subject      TEXT NOT NULL,
  purpose      TEXT NOT NULL,
  legal_basis  TEXT NOT NULL,
  source       TEXT NOT NULL,
  recipient    TEXT NOT NULL,
  counted      INTEGER NOT NULL CHECK (counted >= 0),
  first_at     TEXT NOT NULL,
  last_at      TEXT NOT NULL,
  PRIMARY KEY (action, object, outcome, reason, hour)
);
)sql";

// Version 20: regional directories (issue 22, docs/region.md). A row per
// region whose directory key this node trusts, with the org types its
// administrator accepts from it and the newest signed directory taken; each
// partner says where its card came from ('' when an administrator imported
// it by hand, 'directory:REGION' when a directory brought it).
constexpr std::string_view kV20 = R"sql(
CREATE TABLE region_directories (
  region          TEXT PRIMARY KEY,
  directory_pk    BLOB NOT NULL UNIQUE CHECK (length(directory_pk) = 32),
  accept_types    TEXT NOT NULL,
  serial          INTEGER NOT NULL CHECK (serial >= 1),
  issued          TEXT NOT NULL,
  expires         TEXT NOT NULL,
  directory_json  TEXT NOT NULL,
  trusted_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  source          TEXT NOT NULL
);
ALTER TABLE partners ADD COLUMN source TEXT NOT NULL DEFAULT '';
)sql";

// Version 21: cards that travel by themselves (issue 22, docs/region.md
// "Card updates"). A partner whose newer card arrived over the peer channel
// keeps its previous TLS pin, accepted until previous_tls_until ('': none);
// card_acked is the `created` of this node's own card that the partner has
// confirmed holding ('' until it has).
constexpr std::string_view kV21 = R"sql(
ALTER TABLE partners ADD COLUMN previous_tls_spki BLOB CHECK (previous_tls_spki IS NULL OR length(previous_tls_spki) = 32);
ALTER TABLE partners ADD COLUMN previous_tls_until TEXT NOT NULL DEFAULT '';
ALTER TABLE partners ADD COLUMN card_acked TEXT NOT NULL DEFAULT '';
)sql";

// Version 22: directories that arrive by themselves (issue 22, docs/region.md
// "Passed along", "Fetched over HTTPS"). Whether the administrator let a
// region's members with a loopback or link-local address in, so a directory
// a partner brings or the daemon fetches is checked as the one from a file
// was; and the https:// URL the daemon fetches the region's directory from
// ('': none).
constexpr std::string_view kV22 = R"sql(
ALTER TABLE region_directories ADD COLUMN allow_local_address INTEGER NOT NULL DEFAULT 0
  CHECK (allow_local_address IN (0, 1));
ALTER TABLE region_directories ADD COLUMN url TEXT NOT NULL DEFAULT '';
)sql";

// Version 23: the delivery queue keeps its sealed payloads in a table of
// their own (issue 19, docs/performance.md "Payloads apart"). With the
// payload inside the queue row, SQLite (3.15, under SQLCipher 3.4.1) read
// every overflow page of a 64 KB envelope -- each decrypted and its HMAC
// checked -- to reach the columns after it (attempts, created: every status
// count, /metrics and lane query), and rewrote all of them on each retry's
// UPDATE. The queue row is now a few hundred bytes; the payload is read when
// it is sent and goes with its row (trigger). outgoing_recipient serves the
// lanes' per-partner query.
constexpr std::string_view kV23 = R"sql(
CREATE TABLE outgoing_v23 (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('share', 'revocation')),
  message_id    TEXT NOT NULL,
  recipient_id  TEXT NOT NULL,
  attempts      INTEGER NOT NULL DEFAULT 0,
  next_attempt  INTEGER NOT NULL,
  last_error    TEXT,
  created       TEXT NOT NULL,
  UNIQUE (kind, message_id)
);
CREATE TABLE outgoing_payloads (
  id       INTEGER PRIMARY KEY,
  payload  BLOB NOT NULL
);
INSERT INTO outgoing_v23 (id, kind, message_id, recipient_id, attempts, next_attempt, last_error, created)
  SELECT id, kind, message_id, recipient_id, attempts, next_attempt, last_error, created FROM outgoing;
INSERT INTO outgoing_payloads (id, payload) SELECT id, payload FROM outgoing;
DROP TABLE outgoing;
ALTER TABLE outgoing_v23 RENAME TO outgoing;
CREATE INDEX outgoing_due ON outgoing (next_attempt);
CREATE INDEX outgoing_recipient ON outgoing (recipient_id, next_attempt);
CREATE TRIGGER outgoing_payload_goes AFTER DELETE ON outgoing
BEGIN
  DELETE FROM outgoing_payloads WHERE id = old.id;
END;
)sql";

// Version 24: the audit tables' guards against an insert over an existing
// seq end the transaction (RAISE(ROLLBACK)) instead of the statement
// (ABORT), and the audit log inserts with OR ROLLBACK (issue 19,
// docs/performance.md "No statement journals"). A statement that can abort
// alone inside a transaction makes SQLite journal each page it changes, and
// SQLCipher encrypts and authenticates every journalled page: with ABORT an
// audit entry cost about twice the writes. The insert is refused as before.
constexpr std::string_view kV24 = R"sql(
DROP TRIGGER audit_log_no_replace;
CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log
  WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ROLLBACK, 'the audit log is append-only'); END;
DROP TRIGGER audit_checkpoints_no_replace;
CREATE TRIGGER audit_checkpoints_no_replace BEFORE INSERT ON audit_checkpoints
  WHEN EXISTS (SELECT 1 FROM audit_checkpoints WHERE seq = NEW.seq)
  BEGIN SELECT RAISE(ROLLBACK, 'audit checkpoints are append-only'); END;
)sql";

constexpr std::array<std::string_view, 24> kMigrations = {kV1,  kV2,  kV3,  kV4,  kV5,  kV6,  kV7,  kV8,
                                                          kV9,  kV10, kV11, kV12, kV13, kV14, kV15, kV16,
                                                          kV17, kV18, kV19, kV20, kV21, kV22, kV23, kV24};

}  // namespace

std::span<const std::string_view> Migrations() { return kMigrations; }

}  // namespace schakel::store
