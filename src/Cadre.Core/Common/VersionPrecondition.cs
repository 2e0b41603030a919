namespace Cadre.Common;

/// <summary>
/// The versions a caller's change is conditional on (from <c>If-Match</c>). The change goes
/// ahead only if the resource is at one of them; an empty set never matches.
/// </summary>
public sealed record VersionPrecondition(IReadOnlySet<int> AcceptedVersions)
{
    public bool IsMetBy(int version) => AcceptedVersions.Contains(version);

    public string Describe() => AcceptedVersions.Count == 0
        ? "The If-Match header names no version of this resource."
        : $"If-Match expected version {string.Join(" or ", AcceptedVersions.Order())}";
}
