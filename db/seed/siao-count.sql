SELECT 40000 * $1::bigint
