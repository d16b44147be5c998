/**
 * A parsed JSON response body in tests. The assertions that read each field are the type check,
 * so the body itself stays untyped.
 */
// biome-ignore lint/suspicious/noExplicitAny: response fields are checked by the assertions that read them.
export type Json = any;
