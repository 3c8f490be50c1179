/* uv.h - a poison header, first on the include path of the pure layers
 * (daemon/base, daemon/core): a pure module takes bytes or structs in and
 * gives bytes or structs out, so it has no use for libuv.  Move the I/O to an
 * edge layer (docs/architecture.md). */
#error "a pure module (daemon/base, daemon/core) may not include <uv.h> (libuv): do the I/O in an edge layer"
