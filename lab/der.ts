// The lab CA writes certificates with the same DER writer and PEM wrapping as
// ACME's CSRs (src/core/der.ts, src/acme/der.ts).

export * from "../src/acme/der.ts";
