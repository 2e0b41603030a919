using System.Security.Cryptography;
using Cadre.Files;
using Cadre.Storage;
using Microsoft.Extensions.Options;

namespace Cadre.Tests.Files;

/// <summary>The local store keeps a put whole or not at all, and the upload stream refuses what was not declared.</summary>
public sealed class FileStoreTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cadre-files-" + Guid.NewGuid().ToString("N"));
    private readonly LocalFileStore _store;

    public FileStoreTests() =>
        _store = new LocalFileStore(Options.Create(new FilesOptions { LocalPath = _root }), Options.Create(new StorageOptions()));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    [Fact]
    public async Task Put_ThenOpenRead_GivesTheBytes_AndDeleteTwiceIsHarmless()
    {
        byte[] bytes = [1, 2, 3, 4, 5];

        await _store.PutAsync("ws_a/file_b", new MemoryStream(bytes), default);

        (await _store.ExistsAsync("ws_a/file_b", default)).ShouldBeTrue();
        await using (var read = (await _store.OpenReadAsync("ws_a/file_b", default))!)
        {
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            copy.ToArray().ShouldBe(bytes);
        }

        await _store.DeleteAsync("ws_a/file_b", default);
        await _store.DeleteAsync("ws_a/file_b", default);
        await _store.DeleteAsync("ws_gone/file_b", default);
        (await _store.OpenReadAsync("ws_a/file_b", default)).ShouldBeNull();
    }

    [Fact]
    public async Task Put_RefusedPartWay_KeepsNothing_NotEvenTheEarlierBytesUnderTheKey()
    {
        byte[] declared = [1, 2, 3];
        await _store.PutAsync("ws_a/file_b", new MemoryStream(declared), default);

        var tooLong = new CheckedUploadStream(new MemoryStream(new byte[100_000]), declared.Length, null);
        var refused = await Should.ThrowAsync<UploadRefusedException>(() => _store.PutAsync("ws_a/file_c", tooLong, default));

        refused.Problem.ShouldBe(UploadProblem.TooLarge);
        (await _store.ExistsAsync("ws_a/file_c", default)).ShouldBeFalse();
        Directory.EnumerateFiles(Path.Combine(_root, ".incoming")).ShouldBeEmpty();
        (await _store.ExistsAsync("ws_a/file_b", default)).ShouldBeTrue();
    }

    [Theory]
    [InlineData(new byte[] { 1, 2 }, 3, UploadProblem.TooShort)]
    [InlineData(new byte[] { 1, 2, 3, 4 }, 3, UploadProblem.TooLarge)]
    public async Task CheckedUpload_WrongLength_IsRefused(byte[] body, long size, UploadProblem problem)
    {
        await using var checkedBody = new CheckedUploadStream(new MemoryStream(body), size, null);

        (await Should.ThrowAsync<UploadRefusedException>(() => checkedBody.CopyToAsync(Stream.Null))).Problem.ShouldBe(problem);
    }

    [Fact]
    public async Task CheckedUpload_ChecksTheDeclaredSha256_AndAnswersTheActualOne()
    {
        byte[] bytes = [9, 8, 7];
        await using var matching = new CheckedUploadStream(new MemoryStream(bytes), bytes.Length, Sha256(bytes));
        await matching.CopyToAsync(Stream.Null);
        matching.Sha256.ShouldBe(Sha256(bytes));

        await using var mismatching = new CheckedUploadStream(new MemoryStream(bytes), bytes.Length, Sha256([1]));
        (await Should.ThrowAsync<UploadRefusedException>(() => mismatching.CopyToAsync(Stream.Null))).Problem.ShouldBe(UploadProblem.ChecksumMismatch);
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("ws_a/../../x")]
    [InlineData("ws_a/file_b/c")]
    [InlineData("/abs")]
    [InlineData("WS_A/file")]
    public async Task Keys_OtherThanWorkspaceSlashFile_AreRefused(string key) =>
        await Should.ThrowAsync<ArgumentException>(() => _store.PutAsync(key, new MemoryStream([1]), default));

    [Fact]
    public async Task DeletePrefix_RemovesAWorkspacesFilesOnly()
    {
        await _store.PutAsync("ws_a/file_1", new MemoryStream([1]), default);
        await _store.PutAsync("ws_b/file_2", new MemoryStream([2]), default);

        await _store.DeletePrefixAsync("ws_a/", default);
        await _store.DeletePrefixAsync("ws_never/", default);

        (await _store.ExistsAsync("ws_a/file_1", default)).ShouldBeFalse();
        (await _store.ExistsAsync("ws_b/file_2", default)).ShouldBeTrue();
    }

    [Fact]
    public async Task CleanUp_RemovesAbandonedParts_Only()
    {
        var incoming = Directory.CreateDirectory(Path.Combine(_root, ".incoming")).FullName;
        var old = Path.Combine(incoming, "old.part");
        var fresh = Path.Combine(incoming, "fresh.part");
        await File.WriteAllBytesAsync(old, [1]);
        await File.WriteAllBytesAsync(fresh, [1]);
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddDays(-2));

        await _store.CleanUpAsync(DateTimeOffset.UtcNow.AddDays(-1), default);

        File.Exists(old).ShouldBeFalse();
        File.Exists(fresh).ShouldBeTrue();
    }

    [Theory]
    [InlineData("Store", "s3", "Store")]
    [InlineData("MaxBytes", "0", "MaxBytes")]
    [InlineData("AllowedContentTypes", "image/*", "image/*")]
    [InlineData("AllowedContentTypes", " , ", "at least one")]
    [InlineData("UploadUrlLifetime", "00:00:10", "UploadUrlLifetime")]
    public void Options_Unusable_AreRefusedSayingWhich(string setting, string value, string named)
    {
        var options = new FilesOptions();
        switch (setting)
        {
            case "Store": options.Store = value; break;
            case "MaxBytes": options.MaxBytes = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "AllowedContentTypes": options.AllowedContentTypes = value; break;
            default: options.UploadUrlLifetime = TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
        }

        var result = new FilesOptionsValidator().Validate(null, options);

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain(named);
        new FilesOptionsValidator().Validate(null, new FilesOptions()).Succeeded.ShouldBeTrue();
    }
}
