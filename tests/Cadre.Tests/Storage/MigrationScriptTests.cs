using Cadre.Storage;

namespace Cadre.Tests.Storage;

public sealed class MigrationScriptTests
{
    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public void LoadEmbedded_ScriptsAreNumberedFromOneWithoutGaps(string provider)
    {
        var scripts = MigrationScript.LoadEmbedded(provider);

        scripts.ShouldNotBeEmpty();
        scripts.Select(s => s.Version).ShouldBe(Enumerable.Range(1, scripts.Count));
        scripts.ShouldAllBe(s => s.Name.Length > 0 && s.Sql.Length > 0);
    }

    [Fact]
    public void LoadEmbedded_BothProvidersHaveTheSameVersions()
    {
        var sqlite = MigrationScript.LoadEmbedded("Sqlite").Select(s => (s.Version, s.Name));
        var postgres = MigrationScript.LoadEmbedded("Postgres").Select(s => (s.Version, s.Name));

        sqlite.ShouldBe(postgres);
    }

    [Fact]
    public void Checksum_FollowsTheSqlButNotItsLineEndings()
    {
        var script = new MigrationScript(1, "initial", "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);");

        (script with { Sql = script.Sql.Replace("\n", "\r\n", StringComparison.Ordinal) }).Checksum.ShouldBe(script.Checksum);
        (script with { Sql = script.Sql + " -- changed" }).Checksum.ShouldNotBe(script.Checksum);
    }
}
