import CSQLite
import SpindleModel

/// An error from libsqlite3, with the statement that caused it.
public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var message: String
    public var description: String { "SQLite error \(code): \(message)" }
}

/// One libsqlite3 connection. Not thread-safe: each owner (the writer thread, a reader) has its own.
final class SQLiteConnection {
    let handle: OpaquePointer

    init(path: String, readOnly: Bool = false) throws(SQLiteError) {
        var handle: OpaquePointer?
        let flags =
            (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw SQLiteError(code: code, message: "\(message) (\(path))")
        }
        self.handle = handle
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit { sqlite3_close_v2(handle) }

    func execute(_ sql: String) throws(SQLiteError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if code != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? lastErrorMessage
            sqlite3_free(errorMessage)
            throw SQLiteError(code: code, message: "\(message) in: \(sql.prefix(200))")
        }
    }

    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw SQLiteError(code: code, message: "\(lastErrorMessage) in: \(sql.prefix(200))")
        }
        return SQLiteStatement(statement, connection: self)
    }

    /// Runs a query that returns one integer (PRAGMAs, COUNT).
    func integer(_ sql: String) throws(SQLiteError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { return 0 }
        return statement.int64(0)
    }

    var lastErrorMessage: String { String(cString: sqlite3_errmsg(handle)) }
    var changes: Int32 { sqlite3_changes(handle) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
nonisolated(unsafe) private let emptyCString: UnsafePointer<CChar> = {
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    pointer.initialize(to: 0)
    return UnsafePointer(pointer)
}()

/// A prepared statement. Bind parameters are 1-based, columns 0-based, as in libsqlite3.
final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    init(_ handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }
    func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(handle, index, Int64(value)) }
    /// Unsigned 64-bit values keep their bit pattern (SQLite integers are signed).
    func bind(_ index: Int32, _ value: UInt64) { sqlite3_bind_int64(handle, index, Int64(bitPattern: value)) }
    func bind(_ index: Int32, _ value: UInt32) { sqlite3_bind_int64(handle, index, Int64(value)) }
    func bind(_ index: Int32, _ value: Int32) { sqlite3_bind_int64(handle, index, Int64(value)) }
    func bind(_ index: Int32, _ value: Double) { sqlite3_bind_double(handle, index, value) }
    func bindNull(_ index: Int32) { sqlite3_bind_null(handle, index) }
    func bind(_ index: Int32, _ value: Int?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }
    func bind(_ index: Int32, _ value: Double?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }

    func bind(_ index: Int32, _ value: String) {
        var value = value
        value.withUTF8 { bindUTF8(index, UnsafeRawBufferPointer($0)) }
    }

    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { bindNull(index) }
    }

    /// UTF-8 bytes bound as TEXT (our JSON columns).
    func bindText(_ index: Int32, _ utf8: [UInt8]) {
        utf8.withUnsafeBytes { bindUTF8(index, $0) }
    }

    private func bindUTF8(_ index: Int32, _ buffer: UnsafeRawBufferPointer) {
        // A nil pointer would bind NULL; an empty string must stay an empty string.
        let pointer = buffer.baseAddress?.assumingMemoryBound(to: CChar.self) ?? emptyCString
        _ = sqlite3_bind_text(handle, index, pointer, Int32(buffer.count), transient)
    }

    /// Bytes bound as a BLOB (copied by SQLite).
    func bindBlob(_ index: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(emptyCString), Int32(buffer.count), transient)
        }
    }

    func bindText(_ index: Int32, _ utf8: [UInt8]?) {
        if let utf8 { bindText(index, utf8) } else { bindNull(index) }
    }

    /// Binds `utf8` as TEXT without copying it, for the duration of `body` (which must step the statement).
    func withText<T>(_ index: Int32, _ utf8: [UInt8], _ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
        let result = utf8.withUnsafeBytes { buffer -> Result<T, SQLiteError> in
            let pointer = buffer.baseAddress?.assumingMemoryBound(to: CChar.self) ?? emptyCString
            sqlite3_bind_text(handle, index, pointer, Int32(buffer.count), nil)  // nil: SQLITE_STATIC
            defer { sqlite3_bind_null(handle, index) }
            return Result { () throws(SQLiteError) in try body() }
        }
        return try result.get()
    }

    /// Steps once; true when a row is available, false when done.
    @discardableResult
    func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(code: code, message: connection.lastErrorMessage)
        }
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    func uint64(_ column: Int32) -> UInt64 { UInt64(bitPattern: sqlite3_column_int64(handle, column)) }
    func uint32(_ column: Int32) -> UInt32 { UInt32(truncatingIfNeeded: sqlite3_column_int64(handle, column)) }
    func int32(_ column: Int32) -> Int32 { Int32(truncatingIfNeeded: sqlite3_column_int64(handle, column)) }
    func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    func optionalString(_ column: Int32) -> String? { isNull(column) ? nil : string(column) }

    /// A `["<16 hex digits>"]` text (an OTLP span's parents as stored): the id and its text; nil for
    /// anything else. Read from the column's bytes, without building the whole string first.
    func singleParentSpanID(_ column: Int32) -> (SpanID, String)? {
        guard sqlite3_column_bytes(handle, column) == 20, let text = sqlite3_column_text(handle, column) else { return nil }
        let bytes = UnsafeBufferPointer(start: text, count: 20)
        guard bytes[0] == UInt8(ascii: "["), bytes[1] == UInt8(ascii: "\""), bytes[18] == UInt8(ascii: "\""),
            bytes[19] == UInt8(ascii: "]")
        else { return nil }
        let digits = String(decoding: UnsafeBufferPointer(rebasing: bytes[2..<18]), as: UTF8.self)
        return SpanID(hex: digits).map { ($0, digits) }
    }

    /// A column's text in place: valid until the column is read as another type or the statement moves on.
    func textBytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let text = sqlite3_column_text(handle, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column)))
    }

    func bytes(_ column: Int32) -> [UInt8] {
        guard let blob = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: blob, count: count))
    }
}
