"""Key material: the restoration-log keyring, the pseudonymisation key and the keyed match digests.
Nothing here ever logs, prints or stores a key."""
