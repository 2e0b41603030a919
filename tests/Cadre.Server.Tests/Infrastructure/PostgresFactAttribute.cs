namespace Cadre.Server.Tests.Infrastructure;

/// <summary>A test that needs PostgreSQL itself (not just a database): reported as skipped, never passed, under <c>CADRE_TEST_POSTGRES=off</c>.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestPostgres.IsEnabled)
        {
            Skip = $"{TestPostgres.SettingName}=off";
        }
    }
}
