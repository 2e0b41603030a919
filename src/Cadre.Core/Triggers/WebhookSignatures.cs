using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Cadre.Triggers;

/// <summary>Why a delivery's signature was not accepted (each answered 401, nothing started).</summary>
public enum SignatureFailure
{
    None,
    MissingSecret,
    MissingHeader,
    MalformedHeader,
    StaleTimestamp,
    FutureTimestamp,
    BadSignature,
}

/// <summary>
/// Checks webhook signatures in the three styles senders use: Standard Webhooks (<c>webhook-id</c>,
/// <c>webhook-timestamp</c>, <c>webhook-signature: v1,&lt;base64&gt;</c> over <c>id.timestamp.body</c>),
/// GitHub (<c>X-Hub-Signature-256: sha256=&lt;hex&gt;</c> over the body) and Stripe
/// (<c>Stripe-Signature: t=…,v1=&lt;hex&gt;</c> over <c>t.body</c>). All HMAC-SHA256, compared in constant
/// time, against each active secret (several during a rotation). Hand-written: each scheme is a few
/// lines over <see cref="HMACSHA256"/>, and no package here implements all three.
/// </summary>
public static class WebhookSignatures
{
    public static IReadOnlyList<string> Styles { get; } = ["standard", "github", "stripe"];

    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <param name="headers">The request's headers, names in lower case.</param>
    /// <param name="secrets">The active secrets; none means the workflow asks for a signature it cannot check, which fails closed.</param>
    public static SignatureFailure Verify(
        string style, IReadOnlyDictionary<string, string> headers, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);
        if (secrets.Count == 0)
        {
            return SignatureFailure.MissingSecret;
        }

        return style switch
        {
            "standard" => Standard(headers, body, secrets, now, tolerance),
            "github" => GitHub(headers, body, secrets),
            "stripe" => Stripe(headers, body, secrets, now, tolerance),
            _ => throw new ArgumentOutOfRangeException(nameof(style), style, "Unknown signature style."),
        };
    }

    private static SignatureFailure Standard(IReadOnlyDictionary<string, string> headers, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!headers.TryGetValue("webhook-id", out var id) || !headers.TryGetValue("webhook-timestamp", out var timestamp) || !headers.TryGetValue("webhook-signature", out var signatures))
        {
            return SignatureFailure.MissingHeader;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SignatureFailure.MalformedHeader;
        }

        if (Timing(seconds, now, tolerance) is { } late)
        {
            return late;
        }

        var offered = signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(s => s.StartsWith("v1,", StringComparison.Ordinal))
            .Select(s => TryBase64(s[3..]))
            .OfType<byte[]>()
            .ToList();
        if (offered.Count == 0)
        {
            return SignatureFailure.MalformedHeader;
        }

        var signed = Concat(Encoding.UTF8.GetBytes($"{id}.{timestamp}."), body);
        foreach (var secret in secrets)
        {
            var expected = HMACSHA256.HashData(StandardKey(secret), signed);
            if (offered.Any(o => CryptographicOperations.FixedTimeEquals(o, expected)))
            {
                return SignatureFailure.None;
            }
        }

        return SignatureFailure.BadSignature;
    }

    private static SignatureFailure GitHub(IReadOnlyDictionary<string, string> headers, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets)
    {
        if (!headers.TryGetValue("x-hub-signature-256", out var header))
        {
            return SignatureFailure.MissingHeader;
        }

        if (!header.StartsWith("sha256=", StringComparison.Ordinal) || TryHex(header[7..]) is not { } offered)
        {
            return SignatureFailure.MalformedHeader;
        }

        foreach (var secret in secrets)
        {
            if (CryptographicOperations.FixedTimeEquals(offered, HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)))
            {
                return SignatureFailure.None;
            }
        }

        return SignatureFailure.BadSignature;
    }

    private static SignatureFailure Stripe(IReadOnlyDictionary<string, string> headers, ReadOnlySpan<byte> body, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        if (!headers.TryGetValue("stripe-signature", out var header))
        {
            return SignatureFailure.MissingHeader;
        }

        string? timestamp = null;
        var offered = new List<byte[]>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var (key, value) = (part[..equals], part[(equals + 1)..]);
            if (key == "t")
            {
                timestamp = value;
            }
            else if (key == "v1" && TryHex(value) is { } signature)
            {
                offered.Add(signature);
            }
        }

        if (timestamp is null || offered.Count == 0 || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SignatureFailure.MalformedHeader;
        }

        if (Timing(seconds, now, tolerance) is { } late)
        {
            return late;
        }

        var signed = Concat(Encoding.UTF8.GetBytes(timestamp + "."), body);
        foreach (var secret in secrets)
        {
            var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
            if (offered.Any(o => CryptographicOperations.FixedTimeEquals(o, expected)))
            {
                return SignatureFailure.None;
            }
        }

        return SignatureFailure.BadSignature;
    }

    /// <summary>Signs like a Standard Webhooks sender: the <c>webhook-signature</c> value (also what Cadre's outbound deliveries carry).</summary>
    public static string SignStandard(string secret, string id, long timestamp, ReadOnlySpan<byte> body) =>
        "v1," + Convert.ToBase64String(HMACSHA256.HashData(StandardKey(secret), Concat(Encoding.UTF8.GetBytes($"{id}.{timestamp}."), body)));

    public static string SignGitHub(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static string SignStripe(string secret, long timestamp, ReadOnlySpan<byte> body) =>
        $"t={timestamp},v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Concat(Encoding.UTF8.GetBytes(timestamp + "."), body)));

    /// <summary>A Standard Webhooks secret is <c>whsec_</c> and base64; any other text is taken as it is.</summary>
    private static byte[] StandardKey(string secret) =>
        secret.StartsWith("whsec_", StringComparison.Ordinal) && TryBase64(secret[6..]) is { } key ? key : Encoding.UTF8.GetBytes(secret);

    private static SignatureFailure? Timing(long seconds, DateTimeOffset now, TimeSpan tolerance)
    {
        var age = now.ToUnixTimeSeconds() - seconds;
        return age > tolerance.TotalSeconds ? SignatureFailure.StaleTimestamp
            : -age > tolerance.TotalSeconds ? SignatureFailure.FutureTimestamp
            : null;
    }

    private static byte[] Concat(byte[] prefix, ReadOnlySpan<byte> body)
    {
        var all = new byte[prefix.Length + body.Length];
        prefix.CopyTo(all, 0);
        body.CopyTo(all.AsSpan(prefix.Length));
        return all;
    }

    private static byte[]? TryBase64(string text)
    {
        var buffer = new byte[(text.Length * 3 / 4) + 3];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }

    private static byte[]? TryHex(string text)
    {
        try
        {
            return text.Length % 2 == 0 ? Convert.FromHexString(text) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
