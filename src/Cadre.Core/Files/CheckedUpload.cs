using System.Security.Cryptography;

namespace Cadre.Files;

/// <summary>Why an upload's bytes were refused (each one HTTP status at the upload URL).</summary>
public enum UploadProblem
{
    /// <summary>The file no longer exists (deleted, or expired and cleaned up): 404.</summary>
    Gone,

    /// <summary>The URL's bytes were uploaded already: 403.</summary>
    AlreadyUsed,

    /// <summary>Another PUT to the URL is streaming its bytes at this moment: 409.</summary>
    InProgress,

    /// <summary>The Content-Type is not the one declared for the URL: 415.</summary>
    WrongContentType,

    /// <summary>More bytes than declared (or than the limit): 413.</summary>
    TooLarge,

    /// <summary>Fewer bytes than declared: 422.</summary>
    TooShort,

    /// <summary>The bytes' SHA-256 is not the declared one: 422.</summary>
    ChecksumMismatch,
}

/// <summary>An upload refused part-way through its bytes; nothing of it is kept.</summary>
internal sealed class UploadRefusedException(UploadProblem problem, string message) : Exception(message)
{
    public UploadProblem Problem { get; } = problem;
}

/// <summary>
/// The body of an upload on its way to the store: counts and hashes it, refuses it (by throwing, so
/// the store keeps nothing) once it runs past the declared size, and at its end checks that it was
/// the declared size and, when one was declared, has the declared SHA-256. Reads at most one byte
/// past the declared size, so a body longer than declared is cut off there.
/// </summary>
internal sealed class CheckedUploadStream(Stream body, long size, string? sha256) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;

    /// <summary>The bytes' SHA-256 in lowercase hex, once the whole body has been read and accepted.</summary>
    public string? Sha256 { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Sha256 is not null || buffer.Length == 0)
        {
            return 0;
        }

        var window = buffer[..(int)Math.Min(buffer.Length, size - _read + 1)];
        var count = await body.ReadAsync(window, cancellationToken);
        if (count == 0)
        {
            return Finish();
        }

        _read += count;
        if (_read > size)
        {
            throw new UploadRefusedException(UploadProblem.TooLarge, $"The body is longer than the {size} bytes declared for this upload; it was cut off and nothing was kept.");
        }

        _hash.AppendData(window.Span[..count]);
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Uploads are read asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    private int Finish()
    {
        if (_read < size)
        {
            throw new UploadRefusedException(UploadProblem.TooShort, $"The body has {_read} bytes, fewer than the {size} declared for this upload; nothing was kept.");
        }

        var actual = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (sha256 is not null && !string.Equals(actual, sha256, StringComparison.Ordinal))
        {
            throw new UploadRefusedException(UploadProblem.ChecksumMismatch, $"The bytes' SHA-256 is {actual}, not the {sha256} declared for this upload; nothing was kept.");
        }

        Sha256 = actual;
        return 0;
    }
}
