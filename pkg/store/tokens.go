package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TokenClaim is one channel token of a tenant, as a keyed hash.
type TokenClaim struct {
	Hash    []byte
	Channel string
}

// TokenInUseError is returned when another tenant has claimed a token.
type TokenInUseError struct {
	Channel string
}

func (e *TokenInUseError) Error() string {
	if e.Channel == "" {
		return "a channel token is already used by another tenant"
	}
	return fmt.Sprintf("the %s token is already used by another tenant", e.Channel)
}

// ClaimTokens makes claims the complete set of tokens of tenant id: claims of
// the tenant that are not in it are released. It returns a *TokenInUseError
// naming the channel when another tenant holds one of the tokens, and then
// changes nothing.
func (s *Store) ClaimTokens(ctx context.Context, id string, claims []TokenClaim) error {
	ctx, cancel := bounded(ctx)
	defer cancel()

	claims = unique(claims)
	hashes := make([][]byte, len(claims))
	for i, c := range claims {
		hashes[i] = c.Hash
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var channel string
		err := tx.QueryRow(ctx, `SELECT channel FROM channel_tokens
			WHERE token_hash = ANY($2) AND tenant_id <> $1 LIMIT 1`, id, hashes).Scan(&channel)
		if err == nil {
			return &TokenInUseError{Channel: channel}
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}

		if _, err := tx.Exec(ctx, "DELETE FROM channel_tokens WHERE tenant_id = $1", id); err != nil {
			return err
		}
		for _, c := range claims {
			_, err := tx.Exec(ctx, `INSERT INTO channel_tokens (token_hash, tenant_id, channel)
				VALUES ($1, $2, $3)`, c.Hash, id, c.Channel)
			if err != nil {
				return err
			}
		}
		return nil
	})

	var inUse *TokenInUseError
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &inUse):
		return inUse
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		// Another tenant claimed a token between the check and the insert.
		return &TokenInUseError{}
	case err != nil:
		return fmt.Errorf("claim channel tokens of tenant %s: %w", id, err)
	}
	return nil
}

// unique drops claims of a hash that appears earlier, as when one token is
// set in two fields of a channel.
func unique(claims []TokenClaim) []TokenClaim {
	seen := map[string]bool{}
	out := claims[:0:0]
	for _, c := range claims {
		if !seen[string(c.Hash)] {
			seen[string(c.Hash)] = true
			out = append(out, c)
		}
	}
	return out
}
