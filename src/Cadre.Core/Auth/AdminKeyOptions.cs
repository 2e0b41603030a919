namespace Cadre.Auth;

/// <summary>The instance admin key. Bound from the <c>Cadre</c> section (env <c>CADRE_ADMIN_KEY</c>).</summary>
public sealed class AdminKeyOptions
{
    public const string SectionName = "Cadre";

    public const int MinimumLength = 32;

    /// <summary>
    /// An admin key chosen by the operator (at least 32 characters). When set, it is made valid on
    /// every start, which is also how a lost admin key is replaced. When unset, the first start of
    /// an empty database generates one and prints it once.
    /// </summary>
    public string? AdminKey { get; set; }
}
