namespace Cadre.Storage;

/// <summary>What start-up did that the operator must see once: the database used and a newly generated admin key.</summary>
public sealed class StartupReport
{
    public string? Database { get; internal set; }

    public SchemaStatus? Schema { get; internal set; }

    /// <summary>The instance admin key generated on this start, or null. Shown once, never logged.</summary>
    public string? GeneratedAdminKey { get; internal set; }

    /// <summary>Where the generated key was also written (mode 0600), or null if that failed.</summary>
    public string? AdminKeyFile { get; internal set; }

    /// <summary>The one-time code with which the first person becomes instance owner, while the instance has no users.</summary>
    public string? SetupCode { get; internal set; }

    public DateTime? SetupCodeExpiresAt { get; internal set; }

    /// <summary>Where the key that encrypts workspace secrets comes from (never the key itself).</summary>
    public string? EncryptionKey { get; internal set; }
}
