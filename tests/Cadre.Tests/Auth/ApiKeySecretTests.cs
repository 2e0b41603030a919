using Cadre.Auth;

namespace Cadre.Tests.Auth;

public sealed class ApiKeySecretTests
{
    [Fact]
    public void Generate_HasPrefixAndEnoughEntropy()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ApiKeySecret.Generate()).ToList();

        keys.ShouldAllBe(key => key.Length == 49 && key.StartsWith("cadre_", StringComparison.Ordinal));
        keys.ShouldAllBe(key => key.Substring(6).All(char.IsAsciiLetterOrDigit));
        keys.Distinct().Count().ShouldBe(keys.Count);
    }

    [Fact]
    public void Hash_IsStableAndDiffersPerKey()
    {
        var key = ApiKeySecret.Generate();

        ApiKeySecret.Hash(key).ShouldBe(ApiKeySecret.Hash(key));
        ApiKeySecret.Hash(key).Length.ShouldBe(32);
        ApiKeySecret.Hash(key).ShouldNotBe(ApiKeySecret.Hash(key + "x"));
    }

    [Fact]
    public void DisplayPrefix_ShowsTooLittleToUse()
    {
        var key = ApiKeySecret.Generate();

        ApiKeySecret.DisplayPrefix(key).ShouldBe(key[..12]);
        ApiKeySecret.DisplayPrefix("operator-chosen-secret-of-32-chars").Length.ShouldBeLessThanOrEqualTo(11);
    }

    [Theory]
    [InlineData(WorkspaceRole.Owner, "owner")]
    [InlineData(WorkspaceRole.Admin, "admin")]
    [InlineData(WorkspaceRole.Editor, "editor")]
    [InlineData(WorkspaceRole.Operator, "operator")]
    [InlineData(WorkspaceRole.Viewer, "viewer")]
    public void Roles_RoundTripTheirWireNames(WorkspaceRole role, string name)
    {
        role.ToWireName().ShouldBe(name);
        WorkspaceRoles.TryParse(name, out var parsed).ShouldBeTrue();
        parsed.ShouldBe(role);
    }
}
