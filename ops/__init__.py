"""Operations: the compose stack run as local processes (`make stack`)."""
