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
        var sqlite = MigrationScript.LoadEmbedded("Sqlite").Select(s => (s.Version, s.Name, s.CompatibleWith));
        var postgres = MigrationScript.LoadEmbedded("Postgres").Select(s => (s.Version, s.Name, s.CompatibleWith));

        sqlite.ShouldBe(postgres);
    }

    [Fact]
    public void Checksum_FollowsTheSqlButNotItsLineEndings()
    {
        var script = new MigrationScript(1, "initial", "CREATE TABLE a (id INTEGER);\nCREATE TABLE b (id INTEGER);");

        (script with { Sql = script.Sql.Replace("\n", "\r\n", StringComparison.Ordinal) }).Checksum.ShouldBe(script.Checksum);
        (script with { Sql = script.Sql + " -- changed" }).Checksum.ShouldNotBe(script.Checksum);
    }

    [Fact]
    public void CompatibleWith_WithoutADeclaration_IsTheScriptsOwnVersion()
    {
        new MigrationScript(5, "rename", "-- Renames a column: older builds would miss it.\nALTER TABLE a RENAME COLUMN b TO c;").CompatibleWith.ShouldBe(5);
    }

    [Fact]
    public void CompatibleWith_IsReadFromTheLeadingComments_Only()
    {
        new MigrationScript(9, "additive", "-- Schema 9.\n\n--   compatible-with: 7   (new tables only)\nCREATE TABLE a (id INTEGER);").CompatibleWith.ShouldBe(7);
        new MigrationScript(9, "body", "-- Schema 9.\nCREATE TABLE a (id INTEGER);\n-- compatible-with: 7\n").CompatibleWith.ShouldBe(9);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    public void CompatibleWith_OutsideOneToItsOwnVersion_IsRefused(int declared)
    {
        var script = new MigrationScript(9, "odd", $"-- compatible-with: {declared}\nCREATE TABLE a (id INTEGER);");

        Should.Throw<InvalidOperationException>(() => script.CompatibleWith).Message.ShouldContain("between 1 and its own version");
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("Postgres")]
    public void LoadEmbedded_Schema8IsDeclaredCompatibleWithSchema7(string provider)
    {
        MigrationScript.LoadEmbedded(provider).Single(s => s.Version == 8).CompatibleWith.ShouldBe(7);
    }
}
