using System.ComponentModel.DataAnnotations;

namespace Cadre.Server.Http;

/// <summary>How the server takes requests. Bound from <c>Cadre:Http</c> (env <c>CADRE_HTTP_MAX_REQUEST_BODY_BYTES</c>, …).</summary>
public sealed class HttpOptions
{
    public const string SectionName = "Cadre:Http";

    /// <summary>
    /// Largest request body accepted, in bytes. Default 1 MiB. Kestrel refuses a larger declared
    /// <c>Content-Length</c> before reading any of it, and stops a chunked body once it passes the limit (413).
    /// </summary>
    [Range(1024, long.MaxValue, ErrorMessage = "Cadre:Http:MaxRequestBodyBytes must be at least 1024 bytes.")]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest body of an import (personas as JSON or CSV), in bytes. Default 32 MiB.</summary>
    [Range(1024, long.MaxValue, ErrorMessage = "Cadre:Http:MaxImportBytes must be at least 1024 bytes.")]
    public long MaxImportBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// Behind a reverse proxy that terminates TLS: take the client address and scheme from
    /// <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c>, so cookies are marked Secure, links use
    /// https and per-address limits see clients, not the proxy. Default false: only turn it on when
    /// every request comes through a proxy that sets these headers, or clients could forge them.
    /// </summary>
    public bool TrustForwardedHeaders { get; set; }

    /// <summary>
    /// How long an event stream may wait on a client that does not read before it is disconnected
    /// (it resumes with Last-Event-ID). Default 10 seconds.
    /// </summary>
    public TimeSpan StreamStallTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Per-caller rate limits (token bucket). Bound from <c>Cadre:RateLimit</c>.</summary>
public sealed class RateLimitOptions
{
    public const string SectionName = "Cadre:RateLimit";

    /// <summary>Requests per second each API key (or, unauthenticated, each client address) may sustain. Default 50; 0 turns limiting off.</summary>
    [Range(0, 1_000_000, ErrorMessage = "Cadre:RateLimit:PermitsPerSecond must be between 0 (off) and 1000000.")]
    public int PermitsPerSecond { get; set; } = 50;

    /// <summary>How many requests may arrive at once above the sustained rate. Default 100.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Cadre:RateLimit:Burst must be between 1 and 1000000.")]
    public int Burst { get; set; } = 100;
}
