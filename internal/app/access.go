package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/acme/catalog/internal/access"
	"github.com/acme/catalog/internal/config"
	"github.com/acme/catalog/internal/httpapi"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// openKeys loads the API keys from API_KEYS, or from the API_KEYS_SECRET_ARN secret; the
// returned function keeps the secret's keys current until ctx ends.
func openKeys(ctx context.Context, cfg config.Config, log *slog.Logger) (*httpapi.Keys, func(context.Context), error) {
	ring := access.NewKeyring(&access.Set{})
	if cfg.APIKeysSecretARN != "" {
		if cfg.APIKeys != "" {
			return nil, nil, errors.New("set API_KEYS or API_KEYS_SECRET_ARN, not both")
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("AWS configuration: %w", err)
		}
		src := &access.SecretSource{Client: secretsmanager.NewFromConfig(awsCfg), ARN: cfg.APIKeysSecretARN, Ring: ring, Log: log}
		if err := src.Load(ctx); err != nil {
			return nil, nil, err
		}
		log.Info("API keys", "source", "secret", "keys", ring.Load().Names(), "refresh", cfg.APIKeysRefresh.String())
		return ring, func(ctx context.Context) { src.Run(ctx, cfg.APIKeysRefresh) }, nil
	}
	set, legacy, err := access.ParseEnv(cfg.APIKeys)
	if err != nil {
		return nil, nil, fmt.Errorf("API_KEYS: %w", err)
	}
	ring.Store(set)
	switch {
	case set.Len() == 0:
		log.Warn("no API keys configured (API_KEYS, API_KEYS_SECRET_ARN): every private route will answer 401")
	case legacy:
		log.Warn("API_KEYS holds bare keys, each with every scope; this format is deprecated: name each key and give it only the scopes it needs (name:scope,scope:key;...)", "keys", set.Len())
	default:
		log.Info("API keys", "source", "env", "keys", set.Names())
	}
	return ring, func(context.Context) {}, nil
}

// accessOptions builds the rate limits and CORS of the HTTP server.
func accessOptions(cfg config.Config) (*httpapi.RateLimits, *access.CORS, error) {
	cors, err := access.NewCORS(cfg.CORSAllowedOrigins)
	if err != nil {
		return nil, nil, fmt.Errorf("CORS_ALLOWED_ORIGINS: %w", err)
	}
	return &httpapi.RateLimits{
		PerIP:            access.NewLimiter(cfg.RateLimitPerIP, cfg.RateLimitTable, nil),
		PerKey:           access.NewLimiter(cfg.RateLimitPerKey, cfg.RateLimitTable, nil),
		TrustedProxyHops: cfg.TrustedProxyHops,
	}, cors, nil
}

// serveMetrics serves /metrics on its own port until the returned function stops it: the load
// balancer forwards only the API port, so the metrics never reach the internet.
func serveMetrics(port int, m *httpapi.Metrics, log *slog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return nil, fmt.Errorf("METRICS_PORT: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 75 * time.Second, MaxHeaderBytes: 16 << 10}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(ln) }()
	log.Info("metrics listening", "addr", ln.Addr().String())
	return func() { hs.Close(); <-done }, nil
}

// sweepLimits drops idle rate-limit buckets every minute until ctx ends.
func sweepLimits(ctx context.Context, l *httpapi.RateLimits) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			l.PerIP.Sweep()
			l.PerKey.Sweep()
		}
	}
}
