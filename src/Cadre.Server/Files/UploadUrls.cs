using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;

namespace Cadre.Server.Files;

/// <summary>
/// Signs and checks upload URLs (<c>/uploads/{file}?sig=…</c>). The signature is the file's ID and the
/// URL's expiry, protected by the instance's Data Protection key ring (kept in the database, so every
/// node checks what any node signed): authenticated encryption, so a signature cannot be forged,
/// altered, or moved to another file. The URL is the credential, like a webhook token; it is spent
/// once the file has its bytes.
/// </summary>
internal sealed class UploadUrls(IDataProtectionProvider protection, TimeProvider time)
{
    public const string PathPrefix = "/uploads/";

    private readonly IDataProtector _protector = protection.CreateProtector("Cadre.Uploads.v1");

    public string Sign(string fileId, DateTime expiresAt)
    {
        var payload = $"{fileId}\n{expiresAt.Ticks.ToString(CultureInfo.InvariantCulture)}";
        return WebEncoders.Base64UrlEncode(_protector.Protect(Encoding.UTF8.GetBytes(payload)));
    }

    /// <summary>The signed URL, under <paramref name="baseUrl"/> (the server's public address).</summary>
    public string For(string baseUrl, string fileId, DateTime expiresAt) =>
        $"{baseUrl}{PathPrefix}{Uri.EscapeDataString(fileId)}?sig={Sign(fileId, expiresAt)}";

    /// <summary>Null when <paramref name="signature"/> lets its bearer upload <paramref name="fileId"/> now; otherwise why not.</summary>
    public string? Refusal(string fileId, string signature)
    {
        string payload;
        try
        {
            payload = Encoding.UTF8.GetString(_protector.Unprotect(WebEncoders.Base64UrlDecode(signature)));
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return "The upload URL's signature is not valid: it was changed, or was not made by this server. Use the URL exactly as POST …/files/upload-url answered it.";
        }

        var parts = payload.Split('\n');
        if (parts.Length != 2 || parts[0] != fileId || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            return "The upload URL's signature is for another file. Use the URL exactly as POST …/files/upload-url answered it.";
        }

        var expiresAt = new DateTime(ticks, DateTimeKind.Utc);
        return time.GetUtcNow().UtcDateTime >= expiresAt
            ? $"The upload URL expired at {expiresAt:O}. Ask for a new one (POST …/files/upload-url)."
            : null;
    }
}
