using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Idempotency;

/// <summary>
/// One use of an <c>Idempotency-Key</c>: the request it came with (as a hash) and, once the
/// request finished, the response to replay for a retry.
/// </summary>
internal sealed class IdempotencyRecord
{
    /// <summary>Whose key it is (the calling API key), so two callers never share a key space.</summary>
    public required string Scope { get; init; }

    public required string IdempotencyKey { get; init; }

    /// <summary>SHA-256 of method, path and body of the first request.</summary>
    public required byte[] RequestHash { get; init; }

    /// <summary>Null while the first request is still being processed.</summary>
    public int? StatusCode { get; set; }

    /// <summary>The response headers worth replaying (content type, location, ETag), as a JSON object.</summary>
    public string? ResponseHeaders { get; set; }

    public byte[]? ResponseBody { get; set; }

    public DateTime CreatedAt { get; init; }

    /// <summary>Until when an unfinished first request holds the key; after it, a retry may take over.</summary>
    public DateTime LockedUntil { get; set; }

    public DateTime ExpiresAt { get; set; }
}

internal sealed class IdempotencyRecordConfiguration : IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.HasKey(r => new { r.Scope, r.IdempotencyKey });
        builder.HasIndex(r => r.ExpiresAt);
    }
}
