"""Operations: online backups and restores of the database (the keyring is backed up apart)."""
