using System.Text.RegularExpressions;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Secrets;

/// <summary>A workspace's named secret: its value sealed by <see cref="SecretCipher"/>, readable only by runs that name it.</summary>
internal sealed class Secret
{
    public const string IdPrefix = "sec";

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    /// <summary>What templates read as <c>secrets.&lt;name&gt;</c>; fixed for the secret's life.</summary>
    public required string Name { get; init; }

    public string? Description { get; set; }

    /// <summary>The sealed value (<see cref="SecretCipher"/>'s layout); never returned.</summary>
    public required byte[] Ciphertext { get; set; }

    /// <summary>The ID of the key that sealed <see cref="Ciphertext"/>.</summary>
    public required string KeyId { get; set; }

    public int Version { get; set; }

    public string? CreatedBy { get; init; }

    public string? UpdatedBy { get; set; }

    public DateTime CreatedAt { get; init; }

    public DateTime UpdatedAt { get; set; }
}

internal sealed class SecretConfiguration : IEntityTypeConfiguration<Secret>
{
    public void Configure(EntityTypeBuilder<Secret> builder)
    {
        builder.ToTable("secrets");
        builder.HasKey(s => s.Id);
        builder.HasIndex(s => new { s.WorkspaceId, s.Name }).IsUnique();
        builder.HasIndex(s => s.KeyId);
        builder.Property(s => s.Version).IsConcurrencyToken();
        builder.HasOne<Workspace>().WithMany().HasForeignKey(s => s.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>What a secret's name and value may be.</summary>
public static partial class SecretRules
{
    public const int MaxNameLength = 64;

    /// <summary>64 KiB of UTF-8: keys, certificates and service-account JSON fit.</summary>
    public const int MaxValueBytes = 64 * 1024;

    public const int MaxDescriptionLength = 1000;

    /// <summary>
    /// Values shorter than this are not searched for when redacting: a secret such as <c>1</c> or
    /// <c>yes</c> would otherwise blank every occurrence of it in every record of the run.
    /// </summary>
    public const int MinRedactedLength = 4;

    public const string NameRule = "a letter, then up to 63 letters, digits, _ or - (templates read it as secrets.NAME, or secrets['NAME'] when it holds a -)";

    /// <summary>A letter, then letters, digits, <c>_</c> or <c>-</c>: at most 64, safe in a URL path and a template.</summary>
    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$", RegexOptions.CultureInvariant)]
    public static partial Regex Name();
}
