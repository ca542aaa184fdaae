# syntax=docker/dockerfile:1
# The catalog service image: a static binary on distroless/static, running as the non-root
# "nonroot" user (65532), with nothing else in it (no shell, no package manager).
#
#   docker build --platform linux/amd64 --build-arg VERSION=$(git describe --always --dirty) -t catalog .
#
# The tasks run on X86_64 (the stacks' runtimePlatform), so always build for linux/amd64; the
# deploy scripts do. The build stage runs on the builder's own platform and cross-compiles to
# the target (Go needs no emulator for that), so an arm64 laptop builds the amd64 image fast
# and right; only the final stage, which runs nothing, is of the target platform.
#
# The root filesystem may be read-only (ECS readonlyRootFilesystem): the service writes only to
# its data directory, and only with the embedded SQLite store, which production does not use.
# Mount a volume or tmpfs at /data to use SQLite in a container.

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
# Set by BuildKit from --platform (linux/amd64 -> linux, amd64).
ARG TARGETOS TARGETARCH
WORKDIR /src
# Modules first, so a code change does not re-download them.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The Amazon RDS CA bundle, embedded so DB_SSLROOTCERT=rds verifies Aurora (internal/rdsca).
ADD https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem internal/rdsca/certs/global-bundle.pem
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/catalog ./cmd/catalog

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="catalog" \
      org.opencontainers.image.description="Product catalog API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/acme/catalog" \
      org.opencontainers.image.licenses="UNLICENSED"
COPY --from=build /out/catalog /catalog
USER 65532:65532
ENV PORT=8080 DATA_DIR=/data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=15s --retries=3 CMD ["/catalog", "healthcheck"]
ENTRYPOINT ["/catalog"]
CMD ["serve"]
