using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Cadre.Files;

/// <summary>
/// Where uploaded files' bytes live, by key (<c>&lt;workspace id&gt;/&lt;file id&gt;</c>). The local disk
/// store is built in; an S3-compatible store (PutObject, GetObject, DeleteObject, HeadObject, and
/// aborting incomplete multipart uploads) fits the same shape. Cadre checks size, type and checksum
/// itself while it streams a PUT through to the store, so a store only keeps bytes.
/// </summary>
public interface IFileStore
{
    /// <summary>
    /// Writes <paramref name="content"/> to its end under <paramref name="key"/>, replacing what was there.
    /// All or nothing: when reading the content throws (a refused or cut-off upload), nothing is kept
    /// under the key and the exception is passed on.
    /// </summary>
    Task PutAsync(string key, Stream content, CancellationToken cancellationToken);

    /// <summary>The bytes under <paramref name="key"/>, or null when there are none.</summary>
    Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes the key; removing one that is not there succeeds (two nodes may both clean up).</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes every key under <paramref name="prefix"/> (<c>&lt;workspace id&gt;/</c>: a deleted workspace's files).</summary>
    Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Removes what puts interrupted before <paramref name="abandonedBefore"/> left behind (a crash mid-upload).</summary>
    Task CleanUpAsync(DateTimeOffset abandonedBefore, CancellationToken cancellationToken);
}

/// <summary>
/// Files on local disk: <c>&lt;root&gt;/&lt;workspace id&gt;/&lt;file id&gt;</c>. A put writes
/// <c>&lt;root&gt;/.incoming/&lt;random&gt;.part</c>, syncs it and renames it into place (same file system,
/// so the rename is atomic): a half-written upload never sits under a file's key. Files are made
/// readable by Cadre's user only. Several nodes need the root on a shared file system.
/// </summary>
internal sealed partial class LocalFileStore : IFileStore
{
    private const string Incoming = ".incoming";
    private const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public LocalFileStore(IOptions<FilesOptions> files, IOptions<Storage.StorageOptions> storage)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(storage);
        Root = Path.GetFullPath(files.Value.LocalPath ?? Path.Combine(storage.Value.DataDir, "files"));
    }

    public string Root { get; }

    public async Task PutAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = PathOf(key);
        var incoming = CreateDirectory(Path.Combine(Root, Incoming));
        var part = Path.Combine(incoming, Guid.NewGuid().ToString("N") + ".part");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous, BufferSize = 81920 };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = PrivateFile;
            }

            await using (var file = new FileStream(part, options))
            {
                await content.CopyToAsync(file, cancellationToken);
                // On disk before it takes the key: a crash after the rename must not leave a short file.
                file.Flush(flushToDisk: true);
            }

            CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(part, target, overwrite: true);
        }
        catch
        {
            File.Delete(part);
            throw;
        }
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return Task.FromResult<Stream?>(new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 81920, FileOptions.Asynchronous));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
            // Never written, or its workspace's directory is gone already.
        }

        return Task.CompletedTask;
    }

    public Task<bool> ExistsAsync(string key, CancellationToken cancellationToken) => Task.FromResult(File.Exists(PathOf(key)));

    public Task DeletePrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (!prefix.EndsWith('/') || !Segment().IsMatch(prefix.TrimEnd('/')))
        {
            throw new ArgumentException($"'{prefix}' is not a key prefix of the local store (one directory, such as ws_…/).", nameof(prefix));
        }

        try
        {
            Directory.Delete(Path.Combine(Root, prefix.TrimEnd('/')), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was ever stored for it.
        }

        return Task.CompletedTask;
    }

    public Task CleanUpAsync(DateTimeOffset abandonedBefore, CancellationToken cancellationToken)
    {
        var incoming = new DirectoryInfo(Path.Combine(Root, Incoming));
        if (!incoming.Exists)
        {
            return Task.CompletedTask;
        }

        foreach (var part in incoming.EnumerateFiles("*.part").Where(f => f.LastWriteTimeUtc < abandonedBefore.UtcDateTime))
        {
            try
            {
                part.Delete();
            }
            catch (IOException)
            {
                // Still open by a put after all; the next clean-up looks again.
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The key's file under the root. Keys are IDs Cadre made, so anything else (a path, <c>..</c>) is a bug, refused.</summary>
    private string PathOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var segments = key.Split('/');
        if (segments.Length != 2 || !segments.All(s => Segment().IsMatch(s)))
        {
            throw new ArgumentException($"'{key}' is not a key of the local store (<workspace id>/<file id>).", nameof(key));
        }

        return Path.Combine(Root, segments[0], segments[1]);
    }

    private static string CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, PrivateDirectory);
        }

        return path;
    }

    [GeneratedRegex("^[a-z0-9_]{1,64}$")]
    private static partial Regex Segment();
}
