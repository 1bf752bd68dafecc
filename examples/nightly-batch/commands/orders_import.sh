# rake orders:import — load yesterday's orders from the shop's export.
# Logs like Ruby's Logger (`I, [time #pid]  INFO -- : message`); runs in busybox `sh` on
# Docker and in the host's `sh` as a local process.
log() { printf 'I, [%s #%d]  INFO -- : %s\n' "$(date -u +%Y-%m-%dT%H:%M:%S)" "$$" "$*"; }
log "rake orders:import started (execution ${EXECUTION_ARN:-none})"
total=1200
log "Processing $total orders"
done_count=0
while [ "$done_count" -lt "$total" ]; do
  sleep 1
  done_count=$((done_count + 400))
  log "Imported $done_count/$total orders"
done
log "rake orders:import finished: $total orders"
