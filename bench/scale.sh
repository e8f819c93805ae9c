#!/usr/bin/env bash
# Aggregation and analysis pages on a bench database that already holds anonymised records with codes, and the
# same database multiplied to ten times its records (bench/README.md, "Results"). Usage, from the repository:
#   bash bench/scale.sh stimmen_bench_h1            # measure that database as it is
#   bash bench/scale.sh stimmen_bench_h1 --times10  # copy it to <db>_x10 with every record ten times, measure that
# Records are multiplied in SQL with new random ids (same answers and codes): the aggregation's cost depends on
# the number of records and questions, not on how varied the answers are (the suppression's cost does, see there).
set -euo pipefail
DB=$1
PSQL=(psql -U postgres -h 127.0.0.1 -qtA)
if [[ "${2:-}" == "--times10" ]]; then
  dropdb -U postgres -h 127.0.0.1 --if-exists "${DB}_x10"
  createdb -U postgres -h 127.0.0.1 -T "$DB" "${DB}_x10"
  DB="${DB}_x10"
  "${PSQL[@]}" -d "$DB" -c "INSERT INTO analysis_anonymisedresponse
    (id, campaign_id, survey_version_id, week, answers, k_enforced, codes, codes_layout)
    SELECT gen_random_uuid(), campaign_id, survey_version_id, week, answers, k_enforced, codes, codes_layout
    FROM analysis_anonymisedresponse, generate_series(1, 9)"
  "${PSQL[@]}" -d "$DB" -c "VACUUM ANALYZE analysis_anonymisedresponse"
fi
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB" DEBUG=0 SECRET_KEY=bench-throwaway \
  ALLOWED_HOSTS=127.0.0.1,testserver STATIC_MANIFEST=0 SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 LOG_LEVEL=WARNING
echo "== $DB: $("${PSQL[@]}" -d "$DB" -c 'SELECT count(*) FROM analysis_anonymisedresponse') records; $(uptime)"
.venv/bin/python -m bench.floors --campaign demo --codes | tail -1
"${PSQL[@]}" -d "$DB" -c "DELETE FROM analysis_aggregatesnapshot"  # so that the build counts, not returns the last
/usr/bin/time -f "aggregate: wall %e s, user %U s, sys %S s, peak RSS %M kB" \
  .venv/bin/python manage.py aggregate --campaign demo --breakdown status 2>&1 | tail -2
.venv/bin/python -W ignore -m bench.pages --campaign demo | tail -1
echo "== done $(uptime)"
