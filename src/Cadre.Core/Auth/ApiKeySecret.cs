using System.Security.Cryptography;
using System.Text;

namespace Cadre.Auth;

/// <summary>
/// API key material: <c>cadre_</c> followed by 43 random base62 characters (256 bits), a prefix
/// that secret scanners and people recognise, with no punctuation so a double-click selects it all.
/// </summary>
internal static class ApiKeySecret
{
    public const string Prefix = "cadre_";
    public const int DisplayPrefixLength = 12;
    public const int MaxPresentedLength = 512;

    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Generate() => Prefix + RandomNumberGenerator.GetString(Base62, 43);

    /// <summary>A secret for a link or code (invitation, password reset, setup): 256 bits, URL-safe, no prefix.</summary>
    public static string GenerateToken() => RandomNumberGenerator.GetString(Base62, 43);

    /// <summary>
    /// SHA-256 of the key. A fast hash is right here: keys are 256-bit random, so unlike passwords
    /// they cannot be guessed from the hash however fast it is to compute.
    /// </summary>
    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The part of a key shown in lists (<c>cadre_AbC123</c>), never enough to use it.</summary>
    public static string DisplayPrefix(string key) => key[..Math.Min(DisplayPrefixLength, key.Length / 3)];
}
