using Cadre.Runs;
using Cadre.Workspaces;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Cadre.Files;

/// <summary>An uploaded file: its record here, its bytes in the <see cref="IFileStore"/> under <see cref="FileKeys.For"/>.</summary>
internal sealed class StoredFile
{
    public const string IdPrefix = "file";

    /// <summary>Also the file's storage ID, the name runs refer to it by.</summary>
    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    public required string Name { get; init; }

    /// <summary>The media type declared when the upload URL was made (lowercase, no parameters); the PUT must send it.</summary>
    public required string ContentType { get; init; }

    public long Size { get; init; }

    /// <summary>Lowercase hex. While pending: the declared checksum, if any; once ready: the bytes' own.</summary>
    public string? Sha256 { get; set; }

    /// <summary><c>pending</c>, <c>ready</c> or <c>deleting</c> (bytes being removed; answered as gone).</summary>
    public required string Status { get; set; }

    public string? CreatedBy { get; init; }

    public DateTime CreatedAt { get; init; }

    /// <summary>When the upload URL stops working.</summary>
    public DateTime UploadExpiresAt { get; init; }

    /// <summary>Set while a PUT streams the bytes (a claim: a second PUT meanwhile is refused).</summary>
    public DateTime? UploadStartedAt { get; set; }

    public DateTime? UploadedAt { get; set; }

    /// <summary>When a run first referenced the file.</summary>
    public DateTime? ReferencedAt { get; set; }

    /// <summary>When the clean-up deletes the file; null once a run references it.</summary>
    public DateTime? ExpiresAt { get; set; }
}

/// <summary>A run's use of a file (an attachment or a reference image).</summary>
internal sealed class RunFile
{
    public required string RunId { get; init; }

    public required string FileId { get; init; }
}

internal sealed class StoredFileConfiguration : IEntityTypeConfiguration<StoredFile>
{
    public void Configure(EntityTypeBuilder<StoredFile> builder)
    {
        builder.ToTable("files");
        builder.HasKey(f => f.Id);
        builder.HasIndex(f => new { f.WorkspaceId, f.Id });
        builder.HasOne<Workspace>().WithMany().HasForeignKey(f => f.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunFileConfiguration : IEntityTypeConfiguration<RunFile>
{
    public void Configure(EntityTypeBuilder<RunFile> builder)
    {
        builder.ToTable("run_files");
        builder.HasKey(f => new { f.RunId, f.FileId });
        builder.HasIndex(f => f.FileId);
        builder.HasOne<Run>().WithMany().HasForeignKey(f => f.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<StoredFile>().WithMany().HasForeignKey(f => f.FileId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>Where a file's bytes live in the store: <c>&lt;workspace id&gt;/&lt;file id&gt;</c>.</summary>
internal static class FileKeys
{
    public static string For(string workspaceId, string fileId) => $"{workspaceId}/{fileId}";

    /// <summary>Everything a workspace's files keep in the store.</summary>
    public static string WorkspacePrefix(string workspaceId) => workspaceId + "/";
}
