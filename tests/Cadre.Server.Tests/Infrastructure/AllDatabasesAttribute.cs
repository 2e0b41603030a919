using System.Reflection;
using Cadre.Storage;
using Xunit.Sdk;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// Runs a theory once per database: SQLite always, PostgreSQL unless <c>CADRE_TEST_POSTGRES=off</c>.
/// Further inline arguments follow the database.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class AllDatabasesAttribute(params object[] arguments) : DataAttribute
{
    public object[] Arguments { get; } = arguments;

    public override IEnumerable<object[]> GetData(MethodInfo testMethod)
    {
        yield return [DatabaseKind.Sqlite, .. Arguments];
        if (TestPostgres.IsEnabled)
        {
            yield return [DatabaseKind.Postgres, .. Arguments];
        }
    }
}
