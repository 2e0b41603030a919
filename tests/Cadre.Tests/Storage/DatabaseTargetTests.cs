using Cadre.Storage;
using Npgsql;

namespace Cadre.Tests.Storage;

public sealed class DatabaseTargetTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("sqlite")]
    [InlineData("SQLite")]
    public void Parse_Default_IsSqliteFileInDataDir(string? setting)
    {
        var target = DatabaseTarget.Parse(setting, "/var/lib/cadre", out var error);

        error.ShouldBeNull();
        target!.Kind.ShouldBe(DatabaseKind.Sqlite);
        target.ConnectionString.ShouldContain("/var/lib/cadre/cadre.db");
        target.ConnectionString.ShouldContain("Foreign Keys=True");
    }

    [Fact]
    public void Parse_SqliteWithPath_UsesThatFile()
    {
        var target = DatabaseTarget.Parse("sqlite:/srv/cadre/state.db", "./data", out _);

        target!.Kind.ShouldBe(DatabaseKind.Sqlite);
        target.Description.ShouldBe("SQLite /srv/cadre/state.db");
    }

    [Fact]
    public void Parse_PostgresUrl_BecomesConnectionString()
    {
        var target = DatabaseTarget.Parse("postgres://cadre:s%40cret@db.internal:6543/cadre_prod?sslmode=require", "./data", out var error);

        error.ShouldBeNull();
        target!.Kind.ShouldBe(DatabaseKind.Postgres);
        var builder = new NpgsqlConnectionStringBuilder(target.ConnectionString);
        builder.Host.ShouldBe("db.internal");
        builder.Port.ShouldBe(6543);
        builder.Username.ShouldBe("cadre");
        builder.Password.ShouldBe("s@cret");
        builder.Database.ShouldBe("cadre_prod");
        builder.SslMode.ShouldBe(SslMode.Require);
        target.Description.ShouldNotContain("s@cret");
    }

    [Fact]
    public void Parse_NpgsqlKeywords_IsPostgres()
    {
        var target = DatabaseTarget.Parse("Host=localhost;Database=cadre;Username=cadre;Password=x", "./data", out _);

        target!.Kind.ShouldBe(DatabaseKind.Postgres);
        target.Description.ShouldBe("PostgreSQL localhost:5432/cadre");
    }

    [Fact]
    public void Parse_Postgres_PreparesStatementsAndSkipsResets_UnlessTheOperatorSaysOtherwise()
    {
        var defaults = new NpgsqlConnectionStringBuilder(DatabaseTarget.Parse("Host=localhost;Database=cadre", "./data", out _)!.ConnectionString);
        var fromUrl = new NpgsqlConnectionStringBuilder(DatabaseTarget.Parse("postgres://db/cadre", "./data", out _)!.ConnectionString);
        var chosen = new NpgsqlConnectionStringBuilder(DatabaseTarget.Parse("Host=localhost;Max Auto Prepare=0;No Reset On Close=false", "./data", out _)!.ConnectionString);

        defaults.MaxAutoPrepare.ShouldBe(64);
        defaults.NoResetOnClose.ShouldBeTrue();
        fromUrl.MaxAutoPrepare.ShouldBe(64);
        chosen.MaxAutoPrepare.ShouldBe(0);
        chosen.NoResetOnClose.ShouldBeFalse();
    }

    [Theory]
    [InlineData("mysql://localhost/cadre", "unsupported")]
    [InlineData("sqlite:", "file path")]
    [InlineData("Database=cadre", "Host=")]
    [InlineData("nonsense without equals", "not a valid PostgreSQL connection string")]
    [InlineData("postgres://", "cannot be parsed")]
    [InlineData("postgres://h/db?nosuchoption=1", "query parameter")]
    public void Parse_Unusable_ExplainsWhy(string setting, string reason)
    {
        DatabaseTarget.Parse(setting, "./data", out var error).ShouldBeNull();

        error!.ShouldContain(reason);
    }
}
