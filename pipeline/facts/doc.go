// Package facts owns the facts.* tables: what each kind of department knows of a person, typed
// (dates as DATE, amounts as DECIMAL, lists as VARCHAR[], codes folded to the schema's one
// spelling each), one row per source record of the roles that have a table and keyed by the
// golden person id. Build reads the person records of a reconcile (pipeline/records) and the
// person id resolve gave each; Save writes the tables whole inside the reconcile's transaction.
// A value that cannot be read is NULL in its table and counted (stage "facts" in
// resolve.counts), never guessed. The tables' DDL is schema.FactsDDL; README.md lists every
// column, the source role and canonical field that feeds it and how its values are folded.
package facts
