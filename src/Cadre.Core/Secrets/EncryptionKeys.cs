using System.Security.Cryptography;
using System.Text;
using Cadre.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cadre.Secrets;

/// <summary>
/// The instance's master key for workspace secrets. Section <c>Cadre:Encryption</c>
/// (<c>CADRE_ENCRYPTION_KEY</c>, <c>CADRE_ENCRYPTION_PREVIOUS_KEYS</c>, <c>CADRE_ENCRYPTION_KEY_FILE</c>).
/// </summary>
public sealed class EncryptionOptions
{
    public const string SectionName = "Cadre:Encryption";

    /// <summary>
    /// The current key: base64 of 32 random bytes (<c>openssl rand -base64 32</c>). Unset, the key
    /// is read from <see cref="KeyFile"/>, which is created on the first start.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>
    /// Earlier keys, comma-separated, still accepted for reading while secrets are re-encrypted under
    /// the current key (<c>POST /api/v1/admin/encryption/rotate</c>).
    /// </summary>
    public string? PreviousKeys { get; set; }

    /// <summary>Where the generated key lives when <see cref="Key"/> is unset. Default <c>&lt;data dir&gt;/encryption-key</c>.</summary>
    public string? KeyFile { get; set; }
}

/// <summary>Refuses to start with a key that cannot be used, saying which setting is wrong and never echoing it.</summary>
internal sealed class EncryptionOptionsValidator : IValidateOptions<EncryptionOptions>
{
    public ValidateOptionsResult Validate(string? name, EncryptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.Key) && EncryptionKeys.Parse(options.Key) is null)
        {
            failures.Add($"Cadre:Encryption:Key (CADRE_ENCRYPTION_KEY) must be the base64 encoding of exactly 32 bytes; generate one with `openssl rand -base64 32`.");
        }

        var previous = EncryptionKeys.Split(options.PreviousKeys);
        for (var i = 0; i < previous.Count; i++)
        {
            if (EncryptionKeys.Parse(previous[i]) is null)
            {
                failures.Add($"Cadre:Encryption:PreviousKeys (CADRE_ENCRYPTION_PREVIOUS_KEYS) entry {i + 1} must be the base64 encoding of exactly 32 bytes (keys are separated by commas).");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

/// <summary>A key file that cannot be read or made: the start is refused with the reason (never the key).</summary>
public sealed class EncryptionKeyException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>One 256-bit key and its ID (the first 8 bytes of a SHA-256 over it, in hex): what ciphertexts record.</summary>
internal sealed record EncryptionKey(string Id, byte[] Material)
{
    public static EncryptionKey From(byte[] material)
    {
        // Domain-separated, so the ID is no hash of the key that another system might also publish.
        var digest = SHA256.HashData([.. "cadre-encryption-key-id\0"u8, .. material]);
        return new EncryptionKey(Convert.ToHexStringLower(digest.AsSpan(0, 8)), material);
    }

    public override string ToString() => $"EncryptionKey {Id}";
}

/// <summary>
/// The keys secrets are sealed and opened with: the current one (from <c>CADRE_ENCRYPTION_KEY</c>,
/// else the data directory's key file, made on the first start with mode 0600) and earlier ones
/// that still open what they sealed. Loaded once, at start-up.
/// </summary>
internal sealed class EncryptionKeys(IOptions<EncryptionOptions> options, IOptions<StorageOptions> storage)
{
    public const string KeyFileName = "encryption-key";

    private readonly Lazy<Loaded> _loaded = new(() => Load(options.Value, storage.Value), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The key new ciphertexts are sealed with.</summary>
    public EncryptionKey Current => _loaded.Value.Current;

    /// <summary>Every key that opens ciphertexts, the current one first, by ID.</summary>
    public IReadOnlyDictionary<string, EncryptionKey> Readable => _loaded.Value.Readable;

    /// <summary><c>environment</c> (the setting) or <c>file</c> (the generated key file).</summary>
    public string Source => _loaded.Value.Source;

    /// <summary>The key file in use or created, when the key comes from one.</summary>
    public string? KeyFilePath => _loaded.Value.KeyFile;

    /// <summary>Whether this start created the key file.</summary>
    public bool Created => _loaded.Value.Created;

    /// <summary>Loads (and on the first start creates) the keys now, so a problem stops the start rather than a later request.</summary>
    public void EnsureLoaded() => _ = _loaded.Value;

    internal static byte[]? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var buffer = new byte[48];
        return Convert.TryFromBase64String(text.Trim(), buffer, out var written) && written == 32 ? buffer[..32] : null;
    }

    internal static IReadOnlyList<string> Split(string? list) =>
        string.IsNullOrWhiteSpace(list) ? [] : [.. list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static Loaded Load(EncryptionOptions options, StorageOptions storage)
    {
        var path = string.IsNullOrWhiteSpace(options.KeyFile)
            ? Path.Combine(Path.GetFullPath(storage.DataDir), KeyFileName)
            : Path.GetFullPath(options.KeyFile);
        var previous = Split(options.PreviousKeys).Select(Parse).OfType<byte[]>().Select(EncryptionKey.From).ToList();
        EncryptionKey current;
        string source;
        var created = false;
        string? keyFile = null;
        if (Parse(options.Key) is { } configured)
        {
            current = EncryptionKey.From(configured);
            source = "environment";
            // A key file from before the key was configured stays readable, so moving to a managed key
            // is: set CADRE_ENCRYPTION_KEY, rotate, then delete the file.
            if (File.Exists(path))
            {
                previous.Add(EncryptionKey.From(ReadKeyFile(path)));
            }
        }
        else
        {
            (var material, created) = File.Exists(path) ? (ReadKeyFile(path), false) : (CreateKeyFile(path), true);
            current = EncryptionKey.From(material);
            source = "file";
            keyFile = path;
        }

        var readable = new Dictionary<string, EncryptionKey>(StringComparer.Ordinal) { [current.Id] = current };
        foreach (var key in previous)
        {
            readable.TryAdd(key.Id, key);
        }

        return new Loaded(current, readable, source, keyFile, created);
    }

    private static byte[] ReadKeyFile(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EncryptionKeyException($"The encryption key file {path} cannot be read ({ex.Message}). Fix its permissions, or set CADRE_ENCRYPTION_KEY.", ex);
        }

        return Parse(text) ?? throw new EncryptionKeyException(
            $"The encryption key file {path} does not hold a key (base64 of 32 bytes). Restore it from your backup: without it, the workspace secrets cannot be decrypted.");
    }

    private static byte[] CreateKeyFile(string path)
    {
        var material = RandomNumberGenerator.GetBytes(32);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(path, fileOptions))
            using (var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
            {
                writer.WriteLine(Convert.ToBase64String(material));
            }

            if (!OperatingSystem.IsWindows())
            {
                // The creation mode is filtered by the umask; the key must be the owner's alone whatever it is.
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            return material;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process on the same data directory made it first: use theirs.
            return ReadKeyFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EncryptionKeyException($"The encryption key file {path} cannot be created ({ex.Message}). Make the data directory writable, or set CADRE_ENCRYPTION_KEY.", ex);
        }
    }

    private sealed record Loaded(EncryptionKey Current, IReadOnlyDictionary<string, EncryptionKey> Readable, string Source, string? KeyFile, bool Created);
}

/// <summary>Loads the encryption keys before anything else runs (creating the key file on the first start), so a bad key file stops the start.</summary>
internal sealed partial class EncryptionKeyInitializer(EncryptionKeys keys, StorageProvider storage, StartupReport report, ILogger<EncryptionKeyInitializer> logger)
    : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        keys.EnsureLoaded();
        report.EncryptionKey = keys.Source == "file"
            ? $"{keys.KeyFilePath}{(keys.Created ? " (created now: back it up, apart from database backups)" : "")}, key id {keys.Current.Id}"
            : $"CADRE_ENCRYPTION_KEY, key id {keys.Current.Id}" + (keys.Readable.Count > 1 ? $", {keys.Readable.Count - 1} earlier key(s) readable" : "");
        if (keys.Created)
        {
            LogKeyFileCreated(logger, keys.KeyFilePath!);
        }

        if (keys.Source == "file" && storage.Kind == DatabaseKind.Postgres)
        {
            // Every node must seal and open with the same key; a key file is one node's own.
            LogKeyFileOnSharedDatabase(logger, keys.KeyFilePath!);
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the encryption key file {Path} for workspace secrets; back it up, apart from database backups (without it, secrets cannot be decrypted), or set CADRE_ENCRYPTION_KEY")]
    private static partial void LogKeyFileCreated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace secrets are encrypted with this node's key file {Path}; with several nodes on one PostgreSQL database, give every node the same CADRE_ENCRYPTION_KEY instead")]
    private static partial void LogKeyFileOnSharedDatabase(ILogger logger, string path);
}
