import CLibvirt

/// One value of a libvirt typed parameter (`virTypedParameter`), by its C type.
public enum TypedValue: Sendable, Equatable, CustomStringConvertible {
    case int(Int32)
    case uint(UInt32)
    case llong(Int64)
    case ullong(UInt64)
    case double(Double)
    case boolean(Bool)
    case string(String)

    /// The value as an unsigned count, when it is a non-negative integer of any width.
    public var unsigned: UInt64? {
        switch self {
        case .int(let v): v >= 0 ? UInt64(v) : nil
        case .uint(let v): UInt64(v)
        case .llong(let v): v >= 0 ? UInt64(v) : nil
        case .ullong(let v): v
        case .double(let v): v >= 0 && v.isFinite ? UInt64(v) : nil
        case .boolean, .string: nil
        }
    }

    public var description: String {
        switch self {
        case .int(let v): "\(v)"
        case .uint(let v): "\(v)"
        case .llong(let v): "\(v)"
        case .ullong(let v): "\(v)"
        case .double(let v): "\(v)"
        case .boolean(let v): "\(v)"
        case .string(let v): v
        }
    }
}

/// An ordered list of libvirt typed parameters, owned by Swift.
///
/// Decoding copies out of libvirt's array (which the caller then frees); encoding builds a fresh
/// C array only for the duration of one call.
public struct TypedParameters: Sendable, Equatable {
    public private(set) var entries: [(key: String, value: TypedValue)] = []

    public init() {}

    public init(_ entries: [(String, TypedValue)]) {
        for (k, v) in entries { self[k] = v }
    }

    public subscript(key: String) -> TypedValue? {
        get { entries.first { $0.key == key }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key == key }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    public var keys: [String] { entries.map(\.key) }
    public var isEmpty: Bool { entries.isEmpty }

    public static func == (a: TypedParameters, b: TypedParameters) -> Bool {
        a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    /// Copies `count` parameters out of a libvirt array.
    init(decoding params: UnsafePointer<virTypedParameter>?, count: Int32) {
        guard let params, count > 0 else { return }
        for i in 0..<Int(count) {
            var p = params[i]
            let key = withUnsafeBytes(of: &p.field) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            let value: TypedValue?
            switch UInt32(p.type) {
            case VIR_TYPED_PARAM_INT.rawValue: value = .int(p.value.i)
            case VIR_TYPED_PARAM_UINT.rawValue: value = .uint(p.value.ui)
            case VIR_TYPED_PARAM_LLONG.rawValue: value = .llong(p.value.l)
            case VIR_TYPED_PARAM_ULLONG.rawValue: value = .ullong(p.value.ul)
            case VIR_TYPED_PARAM_DOUBLE.rawValue: value = .double(p.value.d)
            case VIR_TYPED_PARAM_BOOLEAN.rawValue: value = .boolean(p.value.b != 0)
            case VIR_TYPED_PARAM_STRING.rawValue: value = p.value.s.map { .string(String(cString: $0)) }
            default: value = nil  // a type newer than this binding: skip rather than guess
            }
            if let value { entries.append((key, value)) }
        }
    }

    /// Builds the C array, lends it to `body`, and frees it afterwards.
    func withUnsafeParameters<R>(
        _ body: (UnsafeMutablePointer<virTypedParameter>?, Int32) throws -> R
    ) throws -> R {
        Libvirt.ensureInitialized()
        var params: UnsafeMutablePointer<virTypedParameter>? = nil
        var count: Int32 = 0
        var capacity: Int32 = 0
        defer { virTypedParamsFree(params, count) }
        for (key, value) in entries {
            let rc: Int32
            switch value {
            case .int(let v): rc = virTypedParamsAddInt(&params, &count, &capacity, key, v)
            case .uint(let v): rc = virTypedParamsAddUInt(&params, &count, &capacity, key, v)
            case .llong(let v): rc = virTypedParamsAddLLong(&params, &count, &capacity, key, v)
            case .ullong(let v): rc = virTypedParamsAddULLong(&params, &count, &capacity, key, v)
            case .double(let v): rc = virTypedParamsAddDouble(&params, &count, &capacity, key, v)
            case .boolean(let v): rc = virTypedParamsAddBoolean(&params, &count, &capacity, key, v ? 1 : 0)
            case .string(let v): rc = virTypedParamsAddString(&params, &count, &capacity, key, v)
            }
            try check(rc, "add typed parameter '\(key)'")
        }
        return try body(params, count)
    }
}

/// Declares, once, which libvirt key a field of a Swift struct maps to; decoding and encoding
/// both derive from the same list (the way libvirt's Go binding declares its typed-param structs).
public struct TypedField<Root>: Sendable {
    public let key: String
    let decode: @Sendable (inout Root, TypedValue) -> Void
    let encode: @Sendable (Root) -> TypedValue?

    /// An unsigned 64-bit field (`VIR_TYPED_PARAM_ULLONG`).
    public static func ullong(_ key: String, _ path: WritableKeyPath<Root, UInt64?> & Sendable) -> TypedField {
        TypedField(
            key: key,
            decode: { root, v in root[keyPath: path] = v.unsigned },
            encode: { root in root[keyPath: path].map(TypedValue.ullong) })
    }

    /// A signed 32-bit field (`VIR_TYPED_PARAM_INT`): percentages and counts libvirt declares as int.
    public static func int(_ key: String, _ path: WritableKeyPath<Root, Int32?> & Sendable) -> TypedField {
        TypedField(
            key: key,
            decode: { root, v in if case .int(let i) = v { root[keyPath: path] = i } },
            encode: { root in root[keyPath: path].map(TypedValue.int) })
    }

    /// A string field (`VIR_TYPED_PARAM_STRING`).
    public static func string(_ key: String, _ path: WritableKeyPath<Root, String?> & Sendable) -> TypedField {
        TypedField(
            key: key,
            decode: { root, v in if case .string(let s) = v { root[keyPath: path] = s } },
            encode: { root in root[keyPath: path].map(TypedValue.string) })
    }
}

extension TypedParameters {
    /// Fills the declared fields of `root`; returns the entries no field claimed.
    func decode<Root>(into root: inout Root, fields: [TypedField<Root>]) -> TypedParameters {
        var unknown = TypedParameters()
        for (key, value) in entries {
            if let f = fields.first(where: { $0.key == key }) { f.decode(&root, value) } else { unknown[key] = value }
        }
        return unknown
    }

    /// The declared fields of `root` that are set.
    init<Root>(encoding root: Root, fields: [TypedField<Root>]) {
        self.init()
        for f in fields { if let v = f.encode(root) { self[f.key] = v } }
    }
}
