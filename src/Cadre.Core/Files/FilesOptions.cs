using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;

namespace Cadre.Files;

/// <summary>Uploaded files: where their bytes go and what uploads may be. Bound from <c>Cadre:Files</c> (env <c>CADRE_FILES_…</c>).</summary>
public sealed class FilesOptions
{
    public const string SectionName = "Cadre:Files";

    /// <summary>The default of <see cref="AllowedContentTypes"/>: images, PDF and plain-text formats.</summary>
    public const string DefaultContentTypes = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/markdown,text/csv,application/json";

    /// <summary>
    /// Where the bytes are kept. <c>local</c> (the only store built in, and the default): files on disk
    /// under <see cref="LocalPath"/>. An S3-compatible store would be another <see cref="IFileStore"/>.
    /// </summary>
    public string Store { get; set; } = "local";

    /// <summary>The local store's directory. Default: <c>files</c> in the data directory (<c>Cadre:DataDir</c>).</summary>
    public string? LocalPath { get; set; }

    /// <summary>Largest file, in bytes. Default 25 MiB.</summary>
    public long MaxBytes { get; set; } = 25 * 1024 * 1024;

    /// <summary>The media types uploads may declare, comma-separated. Default: PNG, JPEG, GIF, WebP, PDF, plain text, Markdown, CSV, JSON.</summary>
    public string AllowedContentTypes { get; set; } = DefaultContentTypes;

    /// <summary>How long an upload URL works. Default 15 minutes.</summary>
    public TimeSpan UploadUrlLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a file no run references is kept after its upload. Default 24 hours.</summary>
    public TimeSpan UnreferencedLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary><see cref="AllowedContentTypes"/> as a set of lowercase media types.</summary>
    public IReadOnlySet<string> ContentTypes() =>
        AllowedContentTypes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);

    /// <summary>The media type of a Content-Type value, lowercase and without parameters; null when it is not one.</summary>
    public static string? MediaType(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType is { } type && type.Count(c => c == '/') == 1
            && !type.Contains('*', StringComparison.Ordinal)
            ? type.ToLowerInvariant()
            : null;

    /// <summary>A size as people read it (<c>25 MiB</c>, <c>12.3 KiB</c>).</summary>
    public static string Readable(long bytes) => bytes switch
    {
        >= 1024 * 1024 => (bytes / (1024d * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        >= 1024 => (bytes / 1024d).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };
}

/// <summary>Refuses to start with file settings that cannot work, saying which and why.</summary>
internal sealed class FilesOptionsValidator : IValidateOptions<FilesOptions>
{
    public ValidateOptionsResult Validate(string? name, FilesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!string.Equals(options.Store, "local", StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"Cadre:Files:Store (CADRE_FILES_STORE) must be 'local', not '{options.Store}': the local disk store is the one built in.");
        }

        if (options.LocalPath is { } path && string.IsNullOrWhiteSpace(path))
        {
            failures.Add("Cadre:Files:LocalPath (CADRE_FILES_LOCAL_PATH) must not be empty; leave it unset for <data dir>/files.");
        }

        if (options.MaxBytes is < 1 or > 4L * 1024 * 1024 * 1024)
        {
            failures.Add("Cadre:Files:MaxBytes (CADRE_FILES_MAX_BYTES) must be between 1 and 4294967296 (4 GiB).");
        }

        var types = options.AllowedContentTypes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (types.Length == 0)
        {
            failures.Add("Cadre:Files:AllowedContentTypes (CADRE_FILES_ALLOWED_CONTENT_TYPES) must name at least one media type.");
        }

        foreach (var type in types.Where(t => FilesOptions.MediaType(t) is null || t.Contains(';', StringComparison.Ordinal)))
        {
            failures.Add($"Cadre:Files:AllowedContentTypes: '{type}' is not a media type such as image/png (no wildcards, no parameters).");
        }

        if (options.UploadUrlLifetime < TimeSpan.FromMinutes(1) || options.UploadUrlLifetime > TimeSpan.FromDays(7))
        {
            failures.Add("Cadre:Files:UploadUrlLifetime (CADRE_FILES_UPLOAD_URL_LIFETIME) must be between 00:01:00 and 7.00:00:00.");
        }

        if (options.UnreferencedLifetime < TimeSpan.FromMinutes(1) || options.UnreferencedLifetime > TimeSpan.FromDays(3650))
        {
            failures.Add("Cadre:Files:UnreferencedLifetime (CADRE_FILES_UNREFERENCED_LIFETIME) must be between 00:01:00 and 3650.00:00:00.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
