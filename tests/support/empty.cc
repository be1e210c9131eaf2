// Keeps dripr_testlib non-empty before any shared test helper exists.
