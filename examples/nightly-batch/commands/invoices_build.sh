# rake invoices:build — one invoice per customer with orders yesterday.
log() { printf 'I, [%s #%d]  INFO -- : %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S)" "$$" "$*"; }
log "rake invoices:build started (execution ${EXECUTION_ARN:-none})"
customers=312
log "Building invoices for $customers customers"
sleep 1
log "Rendered $customers PDFs"
printf 'W, [%s #%d]  WARN -- : %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S)" "$$" "3 customers without a billing address, skipped"
sleep 1
log "rake invoices:build finished: $((customers - 3)) invoices"
