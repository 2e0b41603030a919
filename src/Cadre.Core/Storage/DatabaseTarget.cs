using Microsoft.Data.Sqlite;
using Npgsql;

namespace Cadre.Storage;

public enum DatabaseKind
{
    Sqlite,
    Postgres,
}

/// <summary>The parsed <see cref="StorageOptions.Database"/> setting: which provider and how to reach it.</summary>
public sealed record DatabaseTarget(DatabaseKind Kind, string ConnectionString, string Description)
{
    public const string SqliteFileName = "cadre.db";

    /// <summary>Parses the setting, or explains in <paramref name="error"/> why it cannot be used.</summary>
    public static DatabaseTarget? Parse(string? database, string dataDir, out string? error)
    {
        error = null;
        var value = database?.Trim() ?? "";
        if (value.Length == 0 || value.Equals("sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return Sqlite(Path.Combine(Path.GetFullPath(dataDir), SqliteFileName));
        }

        if (value.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = value["sqlite:".Length..].Trim();
            if (path.Length == 0)
            {
                error = "Cadre:Database 'sqlite:' needs a file path after the colon, e.g. 'sqlite:/var/lib/cadre/cadre.db'.";
                return null;
            }

            return Sqlite(Path.GetFullPath(path));
        }

        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
            value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return PostgresFromUrl(value, out error);
        }

        if (value.Contains("://", StringComparison.Ordinal))
        {
            error = $"Cadre:Database names an unsupported database '{value.Split("://")[0]}'. Use 'sqlite', 'sqlite:<path>', " +
                "a postgres:// URL or a PostgreSQL connection string (Host=…;Database=…).";
            return null;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrEmpty(builder.Host))
            {
                error = "Cadre:Database is neither 'sqlite', 'sqlite:<path>', a postgres:// URL nor a PostgreSQL connection string with Host=.";
                return null;
            }

            return Postgres(builder);
        }
        catch (ArgumentException ex)
        {
            error = $"Cadre:Database is not a valid PostgreSQL connection string: {ex.Message}";
            return null;
        }
    }

    private static DatabaseTarget Sqlite(string path)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            ForeignKeys = true,
            // Seconds a command waits for another writer's lock before giving up.
            DefaultTimeout = 30,
        };
        return new DatabaseTarget(DatabaseKind.Sqlite, builder.ConnectionString, $"SQLite {path}");
    }

    private static DatabaseTarget? PostgresFromUrl(string url, out string? error)
    {
        error = null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = "Cadre:Database looks like a postgres:// URL but cannot be parsed; the form is postgres://user:password@host:5432/database.";
            return null;
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        var userInfo = uri.UserInfo.Split(':', 2);
        if (userInfo[0].Length > 0)
        {
            builder.Username = Uri.UnescapeDataString(userInfo[0]);
        }

        if (userInfo.Length == 2)
        {
            builder.Password = Uri.UnescapeDataString(userInfo[1]);
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        try
        {
            foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = pair.Split('=', 2);
                var key = Uri.UnescapeDataString(parts[0]);
                builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] =
                    parts.Length == 2 ? Uri.UnescapeDataString(parts[1]) : "";
            }
        }
        catch (ArgumentException ex)
        {
            error = $"Cadre:Database has a query parameter PostgreSQL does not know: {ex.Message}";
            return null;
        }

        return Postgres(builder);
    }

    private static DatabaseTarget Postgres(NpgsqlConnectionStringBuilder builder)
    {
        // Unless the operator says otherwise: the engine's statements are few and repeated, so
        // prepared once per connection they skip parsing and planning (about 3 ms off a run's start
        // to its first model token here); and Cadre keeps no session state (its SETs and locks are
        // per transaction), so a pooled connection need not be reset (DISCARD ALL, which would also
        // drop those prepared statements) each time it is taken.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = builder.ConnectionString };
        if (!given.ContainsKey("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        if (!given.ContainsKey("No Reset On Close"))
        {
            builder.NoResetOnClose = true;
        }

        return new(DatabaseKind.Postgres, builder.ConnectionString,
            $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database ?? builder.Username ?? "postgres"}");
    }
}
