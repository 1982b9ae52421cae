"""Swiss formats in every language (FORMAT_MODULE_PATH): a date is 05.12.2026, a moment
05.12.2026 14:03, an amount 4'347.80 — in German, French, Italian and English alike, as a
Swiss firm writes them. Django's own locale formats fill in what is not said here."""
