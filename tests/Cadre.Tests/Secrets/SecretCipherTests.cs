using System.Security.Cryptography;
using Cadre.Secrets;
using Cadre.Storage;
using Microsoft.Extensions.Options;

namespace Cadre.Tests.Secrets;

public sealed class SecretCipherTests
{
    private static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static SecretCipher Cipher(string key, string? previous = null) => new(new EncryptionKeys(
        Options.Create(new EncryptionOptions { Key = key, PreviousKeys = previous }),
        Options.Create(new StorageOptions { DataDir = Path.Combine(Path.GetTempPath(), "cadre-cipher-" + Guid.NewGuid().ToString("N")) })));

    [Fact]
    public void SealThenOpen_GivesTheValueBack_WithAFreshNonceEachTime()
    {
        var cipher = Cipher(NewKey());

        var first = cipher.Seal("ws_1", "token", "the value ✓");
        var second = cipher.Seal("ws_1", "token", "the value ✓");

        cipher.Open("ws_1", "token", first).ShouldBe("the value ✓");
        first.Ciphertext.ShouldNotBe(second.Ciphertext);
        first.Ciphertext.Length.ShouldBe(1 + 12 + "the value ✓"u8.Length + 16);
        first.KeyId.ShouldBe(cipher.CurrentKeyId);
        first.KeyId.Length.ShouldBe(16);
    }

    [Theory]
    [InlineData("ws_2", "token")]
    [InlineData("ws_1", "other")]
    [InlineData("ws_1", "Token")]
    public void Open_InAnotherWorkspaceOrUnderAnotherName_Refuses(string workspaceId, string name)
    {
        var cipher = Cipher(NewKey());
        var sealedValue = cipher.Seal("ws_1", "token", "value");

        Should.Throw<SecretUnreadableException>(() => cipher.Open(workspaceId, name, sealedValue)).Message.ShouldContain("altered or belongs to another secret");
    }

    [Fact]
    public void Open_AlteredCiphertext_Refuses()
    {
        var cipher = Cipher(NewKey());
        var sealedValue = cipher.Seal("ws_1", "token", "value");
        var altered = sealedValue.Ciphertext.ToArray();
        altered[14] ^= 0x01;

        Should.Throw<SecretUnreadableException>(() => cipher.Open("ws_1", "token", sealedValue with { Ciphertext = altered }));
        Should.Throw<SecretUnreadableException>(() => cipher.Open("ws_1", "token", sealedValue with { Ciphertext = altered[..10] })).Message.ShouldContain("format");
    }

    [Fact]
    public void Open_UnderAKeyTheServerLacks_RefusesNamingTheKey_UntilItIsGivenAsPrevious()
    {
        var oldKey = NewKey();
        var sealedValue = Cipher(oldKey).Seal("ws_1", "token", "value");

        var error = Should.Throw<SecretUnreadableException>(() => Cipher(NewKey()).Open("ws_1", "token", sealedValue));
        error.Message.ShouldContain(sealedValue.KeyId);
        error.Message.ShouldNotContain(oldKey);
        var rotated = Cipher(NewKey(), previous: $"{NewKey()}, {oldKey}");
        rotated.Open("ws_1", "token", sealedValue).ShouldBe("value");
        rotated.Seal("ws_1", "token", "value").KeyId.ShouldNotBe(sealedValue.KeyId);
    }

    [Theory]
    [InlineData("c2hvcnQ=")]
    [InlineData("not base64 at all")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Validate_KeyNotOf32Bytes_FailsNamingTheSettingNotTheValue(string key)
    {
        var result = new EncryptionOptionsValidator().Validate(null, new EncryptionOptions { Key = key, PreviousKeys = $"{NewKey()},{key}" });

        result.Failed.ShouldBeTrue();
        result.FailureMessage.ShouldContain("CADRE_ENCRYPTION_KEY");
        result.FailureMessage.ShouldContain("CADRE_ENCRYPTION_PREVIOUS_KEYS) entry 2");
        result.FailureMessage.ShouldNotContain(key);
    }
}
