#!/bin/sh
# socat that is killed when the process that started it dies. sandbox-runtime starts its host-side
# network bridge (socat UNIX-LISTEN:/tmp/claude-http-….sock) as a plain child of the kernel, so a
# SIGKILLed kernel left it running for good; see core/sandbox/runtime.ts. In bin/ because that is shipped as it is (core/ is compiled to dist/).
exec setpriv --pdeathsig KILL -- socat "$@"
