using System.Security.Cryptography;
using System.Text;

namespace Cadre.Secrets;

/// <summary>A sealed value and the ID of the key that sealed it.</summary>
internal sealed record SealedSecret(byte[] Ciphertext, string KeyId);

/// <summary>Why a ciphertext does not open: its key is not among this server's, or it was altered (or moved to another secret).</summary>
public sealed class SecretUnreadableException(string message) : Exception(message);

/// <summary>
/// AES-256-GCM over workspace secrets: a random 96-bit nonce per seal, a 128-bit tag, and associated
/// data naming the workspace and the secret, so a ciphertext opens only where it was sealed. The
/// stored layout is <c>[format 1][nonce 12][ciphertext][tag 16]</c>; the key's ID is kept beside it.
/// </summary>
internal sealed class SecretCipher(EncryptionKeys keys)
{
    private const byte Format = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>The ID of the key new values are sealed with.</summary>
    public string CurrentKeyId => keys.Current.Id;

    public SealedSecret Seal(string workspaceId, string name, string plaintext)
    {
        ArgumentNullException.ThrowIfNull(plaintext);
        var key = keys.Current;
        var clear = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[1 + NonceSize + clear.Length + TagSize];
        output[0] = Format;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key.Material, TagSize);
        aes.Encrypt(nonce, clear, output.AsSpan(1 + NonceSize, clear.Length), output.AsSpan(1 + NonceSize + clear.Length, TagSize), AssociatedData(workspaceId, name));
        CryptographicOperations.ZeroMemory(clear);
        return new SealedSecret(output, key.Id);
    }

    /// <summary>The plaintext; throws <see cref="SecretUnreadableException"/> (naming the secret, never its value) when it cannot be opened.</summary>
    public string Open(string workspaceId, string name, SealedSecret sealedSecret)
    {
        ArgumentNullException.ThrowIfNull(sealedSecret);
        if (!keys.Readable.TryGetValue(sealedSecret.KeyId, out var key))
        {
            throw new SecretUnreadableException(
                $"Secret '{name}' was encrypted with key {sealedSecret.KeyId}, which this server does not have (its key is {keys.Current.Id}). " +
                "Give the server that key in CADRE_ENCRYPTION_KEY or CADRE_ENCRYPTION_PREVIOUS_KEYS, or set the secret's value again.");
        }

        var data = sealedSecret.Ciphertext;
        if (data.Length < 1 + NonceSize + TagSize || data[0] != Format)
        {
            throw new SecretUnreadableException($"Secret '{name}' is not stored in a format this server reads. Set its value again.");
        }

        var length = data.Length - 1 - NonceSize - TagSize;
        var clear = new byte[length];
        try
        {
            using var aes = new AesGcm(key.Material, TagSize);
            aes.Decrypt(data.AsSpan(1, NonceSize), data.AsSpan(1 + NonceSize, length), data.AsSpan(1 + NonceSize + length, TagSize), clear, AssociatedData(workspaceId, name));
            return Encoding.UTF8.GetString(clear);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new SecretUnreadableException(
                $"Secret '{name}' does not decrypt: its stored ciphertext was altered or belongs to another secret. Set its value again.");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(clear);
        }
    }

    // Length-prefixed, so no choice of workspace and name can read as another pair.
    private static byte[] AssociatedData(string workspaceId, string name)
    {
        var text = $"cadre-secret/v1\n{workspaceId.Length}:{workspaceId}\n{name.Length}:{name}";
        return Encoding.UTF8.GetBytes(text);
    }
}
