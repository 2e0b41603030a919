namespace Cadre.Common;

/// <summary>
/// Encrypts secrets Cadre must show or use again later (webhook tokens now; provider keys and
/// workspace secrets later). The server implements it with ASP.NET Core Data Protection, whose keys
/// live in the database, so Core stays free of ASP.NET Core.
/// </summary>
public interface ISecretProtector
{
    string Protect(string plaintext);

    /// <summary>The plaintext, or null when the text cannot be decrypted (a lost key ring).</summary>
    string? Unprotect(string protectedText);
}
