#!/usr/bin/env bash
# Smoke test for the Elasticsearch started by scripts/engines.sh: index, document, match query + highlight.
set -euo pipefail
ES="${NATTER_ELASTICSEARCH_URL:-http://127.0.0.1:9200}"
IDX="natter-verify-$$"
c=(-fsS -m 30)
j=("${c[@]}" -H 'Content-Type: application/json')
trap 'curl -s -m 10 -XDELETE "$ES/$IDX" >/dev/null || true' EXIT

ver=$(curl "${j[@]}" "$ES/_nodes/_local?filter_path=nodes.*.version" | sed -n 's/.*"version":"\([^"]*\)".*/\1/p')
echo "elasticsearch: version $ver"
curl "${j[@]}" -XPUT "$ES/$IDX" -d '{
  "settings": {"number_of_shards": 1, "number_of_replicas": 0},
  "mappings": {"properties": {"body": {"type": "text"}, "channel": {"type": "keyword"}, "at": {"type": "date"}}}
}' >/dev/null
echo "elasticsearch: created index $IDX"
curl "${j[@]}" -XPOST "$ES/$IDX/_doc/m1?refresh=wait_for" \
  -d '{"body": "The quick brown fox jumps over the lazy dog", "channel": "general", "at": "2024-01-01T00:00:00Z"}' >/dev/null
curl "${c[@]}" -XPOST "$ES/_bulk?refresh=wait_for" -H 'Content-Type: application/x-ndjson' --data-binary @- >/dev/null <<NDJSON
{"index": {"_index": "$IDX", "_id": "m2"}}
{"body": "foxes are quick, dogs are lazy", "channel": "random", "at": "2024-01-02T00:00:00Z"}
NDJSON
echo "elasticsearch: indexed 2 docs (single + _bulk)"
res=$(curl "${j[@]}" "$ES/$IDX/_search" -d '{
  "query": {"bool": {"must": {"match": {"body": "quick fox"}}, "filter": {"term": {"channel": "general"}}}},
  "highlight": {"fields": {"body": {}}}
}')
grep -q '"total":{"value":1' <<<"$res" || { echo "unexpected hits: $res" >&2; exit 1; }
grep -q '<em>quick</em>' <<<"$res" || { echo "no highlight: $res" >&2; exit 1; }
echo "elasticsearch: match + term filter + highlight ok: $(grep -o '"highlight":{[^}]*}' <<<"$res")"
echo "elasticsearch: OK"
