#!/bin/sh
# The audit fault suite, short form: each fault class a few times (the full counts are `make soak`).
exec env SOAK_TAP=1 SOAK_LOAD=${SOAK_LOAD:-12} SOAK_PAR=4 SOAK_KILLS=3 SOAK_RESTARTS=3 SOAK_ENOSPC=6 SOAK_STOPS=4 \
        SOAK_STOP_S=6 SOAK_SIGNALS=6 sh "$(dirname "$0")/soak.sh"
