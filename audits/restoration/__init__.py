"""The restoration log (DELF §5.3): encrypt-then-MAC entries, their batch decryption on Arrow
columns, and the nightly checks of the log itself."""
