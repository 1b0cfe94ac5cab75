// How the typed layer maps onto the HDF5 C API. Every call's result is
// checked at once: on failure the innermost entry of HDF5's (per-thread)
// error stack is read before any other HDF5 call can clear it, and thrown
// together with what we were doing, on which object, in which file.
#include "engine/h5/h5.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <utility>

namespace artel::h5 {

static_assert(std::is_same_v<hsize_t, ::hsize_t>, "artel::h5::hsize_t must be HDF5's hsize_t");
static_assert(std::is_same_v<std::int64_t, ::hid_t>, "HDF5 >= 1.10 uses 64-bit identifiers");

namespace {

// HDF5 prints error stacks to stderr unless told not to; the setting is per
// thread in a thread-safe build, so every thread that enters the layer says so.
void quiet() {
    thread_local bool done = false;
    if (!done) {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        done = true;
    }
}

struct Innermost {
    bool found = false;
    std::string desc;
    hid_t minor = -1;
};

herr_t take_innermost(unsigned n, const H5E_error2_t* err, void* data) {
    if (n == 0) {
        auto* out = static_cast<Innermost*>(data);
        out->found = true;
        out->desc = err->desc ? err->desc : "";
        out->minor = err->min_num;
    }
    return 0;
}

// HDF5's words for a failed read or write hold a timestamp, a buffer address,
// byte counts and a line break ("file write failed: time = ..., filename =
// ..., errno = 28, error message = 'No space left on device', buf = 0x...");
// a user needs the operation and the system's reason.
std::string tidy_io_message(const std::string& text) {
    const std::string key = "error message = '";
    const auto m = text.find(key);
    if (m == std::string::npos) return text;
    const auto end = text.find('\'', m + key.size());
    if (end == std::string::npos) return text;
    std::string what = text.substr(0, text.find(':'));
    if (what.size() > 60 || what.find('\n') != std::string::npos) what = "I/O failed";
    return what + ": " + text.substr(m + key.size(), end - m - key.size());
}

// HDF5's own words for the error just raised: the innermost (most specific)
// description, with the minor message when it adds something.
std::string hdf5_message() {
    Innermost in;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, &in);
    std::string text;
    if (in.found) {
        text = in.desc;
        char minor[256] = {};
        H5E_type_t kind;
        if (in.minor >= 0 && H5Eget_msg(in.minor, &kind, minor, sizeof minor) > 0 &&
            text.find(minor) == std::string::npos) {
            text += text.empty() ? std::string(minor) : " (" + std::string(minor) + ")";
        }
    }
    H5Eclear2(H5E_DEFAULT);
    return text.empty() ? std::string("HDF5 gave no detail") : tidy_io_message(text);
}

[[noreturn]] void fail(const std::string& doing, const std::string& reason) {
    throw Error("HDF5: cannot " + doing + ": " + reason);
}

[[noreturn]] void fail_hdf5(const std::string& doing) { fail(doing, hdf5_message()); }

// `doing` is a callable building the description; it must make no HDF5 call.
template <class Doing>
hid_t check_id(hid_t id, Doing&& doing) {
    if (id < 0) fail_hdf5(doing());
    return id;
}

template <class Doing>
void check(herr_t status, Doing&& doing) {
    if (status < 0) fail_hdf5(doing());
}

template <class Doing>
bool check_tri(htri_t answer, Doing&& doing) {
    if (answer < 0) fail_hdf5(doing());
    return answer > 0;
}

std::string in_file(const std::string& file) { return " in '" + file + "'"; }

std::string shape_text(const std::vector<hsize_t>& dims) {
    std::string s = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(dims[i]);
    }
    return s + (dims.size() == 1 ? ",)" : ")");
}

std::string rows_text(hsize_t first, hsize_t n) {
    if (n == 0) return "rows " + std::to_string(first) + "..(none)";
    return "rows " + std::to_string(first) + ".." + std::to_string(first + n - 1);
}

hsize_t product(const std::vector<hsize_t>& dims, std::size_t from = 0) {
    hsize_t n = 1;
    for (std::size_t i = from; i < dims.size(); ++i) n *= dims[i];
    return n;
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return "/";
    return path.substr(0, slash);
}

// ---- element types ---------------------------------------------------------

template <class T>
struct Traits;
template <>
struct Traits<double> {
    static hid_t mem() { return H5T_NATIVE_DOUBLE; }
    static hid_t file() { return H5T_IEEE_F64LE; }
    static constexpr const char* name = "float64";
};
template <>
struct Traits<float> {
    static hid_t mem() { return H5T_NATIVE_FLOAT; }
    static hid_t file() { return H5T_IEEE_F32LE; }
    static constexpr const char* name = "float32";
};
template <>
struct Traits<std::int32_t> {
    static hid_t mem() { return H5T_NATIVE_INT32; }
    static hid_t file() { return H5T_STD_I32LE; }
    static constexpr const char* name = "int32";
};
template <>
struct Traits<std::int64_t> {
    static hid_t mem() { return H5T_NATIVE_INT64; }
    static hid_t file() { return H5T_STD_I64LE; }
    static constexpr const char* name = "int64";
};
template <>
struct Traits<std::uint8_t> {
    static hid_t mem() { return H5T_NATIVE_UINT8; }
    static hid_t file() { return H5T_STD_U8LE; }
    static constexpr const char* name = "uint8";
};
template <>
struct Traits<std::uint32_t> {
    static hid_t mem() { return H5T_NATIVE_UINT32; }
    static hid_t file() { return H5T_STD_U32LE; }
    static constexpr const char* name = "uint32";
};
template <>
struct Traits<std::uint64_t> {
    static hid_t mem() { return H5T_NATIVE_UINT64; }
    static hid_t file() { return H5T_STD_U64LE; }
    static constexpr const char* name = "uint64";
};

std::string describe(hid_t type) {
    const H5T_class_t cls = H5Tget_class(type);
    const std::string bits = std::to_string(8 * H5Tget_size(type));
    switch (cls) {
        case H5T_FLOAT:
            return "float" + bits;
        case H5T_INTEGER:
            return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + bits;
        case H5T_STRING:
            return H5Tis_variable_str(type) > 0 ? "variable-length strings" : "fixed-length strings";
        case H5T_COMPOUND:
            return "a compound type";
        case H5T_REFERENCE:
            return "references";
        default:
            return "HDF5 type class " + std::to_string(static_cast<int>(cls));
    }
}

template <class T>
bool holds(hid_t type) {
    const H5T_class_t cls = H5Tget_class(type);
    if (H5Tget_size(type) != sizeof(T)) return false;
    if constexpr (std::is_floating_point_v<T>) {
        return cls == H5T_FLOAT;
    } else {
        return cls == H5T_INTEGER && (H5Tget_sign(type) != H5T_SGN_NONE) == std::is_signed_v<T>;
    }
}

detail::Handle utf8_vlen_type(H5T_cset_t cset = H5T_CSET_UTF8) {
    detail::Handle t(H5Tcopy(H5T_C_S1));
    if (!t.valid() || H5Tset_size(t.get(), H5T_VARIABLE) < 0 || H5Tset_cset(t.get(), cset) < 0)
        fail_hdf5("make a variable-length string type");
    return t;
}

// Strings from fixed-length storage: up to the first NUL, space padding cut.
std::string from_fixed(const char* p, std::size_t size, H5T_str_t pad) {
    std::size_t n = 0;
    while (n < size && p[n] != '\0') ++n;
    if (pad == H5T_STR_SPACEPAD)
        while (n > 0 && p[n - 1] == ' ') --n;
    return std::string(p, n);
}

void close_id(hid_t id) {
    switch (H5Iget_type(id)) {
        case H5I_BADID:
            // Already gone: the parallel HDF5 library shuts down in
            // MPI_Finalize, before the destructors of function statics run.
            break;
        case H5I_FILE:
            H5Fclose(id);
            break;
        case H5I_GROUP:
            H5Gclose(id);
            break;
        case H5I_DATASET:
            H5Dclose(id);
            break;
        case H5I_DATASPACE:
            H5Sclose(id);
            break;
        case H5I_DATATYPE:
            H5Tclose(id);
            break;
        case H5I_ATTR:
            H5Aclose(id);
            break;
        case H5I_GENPROP_LST:
            H5Pclose(id);
            break;
        default:
            H5Idec_ref(id);
            break;
    }
}

// Track and index creation order of links (groups only) and attributes, as
// netCDF-4 does, so listings come back in the order things were written.
void set_creation_order(hid_t plist, bool links, const std::string& doing) {
    const unsigned flags = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
    if (links) check(H5Pset_link_creation_order(plist, flags), [&] { return doing; });
    check(H5Pset_attr_creation_order(plist, flags), [&] { return doing; });
}

H5_index_t attr_index(hid_t obj) {
    detail::Handle plist;
    switch (H5Iget_type(obj)) {
        case H5I_GROUP:
            plist = detail::Handle(H5Gget_create_plist(obj));
            break;
        case H5I_DATASET:
            plist = detail::Handle(H5Dget_create_plist(obj));
            break;
        default:
            return H5_INDEX_NAME;
    }
    unsigned flags = 0;
    if (!plist.valid() || H5Pget_attr_creation_order(plist.get(), &flags) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return H5_INDEX_NAME;
    }
    return (flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
}

herr_t collect_name(hid_t, const char* name, const void*, void* data) {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}
herr_t collect_attr_name(hid_t loc, const char* name, const H5A_info_t* info, void* data) {
    return collect_name(loc, name, info, data);
}
herr_t collect_link_name(hid_t loc, const char* name, const H5L_info_t* info, void* data) {
    return collect_name(loc, name, info, data);
}

}  // namespace

// ---- Handle ------------------------------------------------------------------

namespace detail {
Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        id_ = other.id_;
        other.id_ = -1;
    }
    return *this;
}
Handle::~Handle() { reset(); }
void Handle::reset() noexcept {
    if (id_ >= 0) {
        quiet();
        close_id(id_);
        id_ = -1;
    }
}
}  // namespace detail

// ---- Object: names and attributes -------------------------------------------

std::int64_t Object::id() const {
    quiet();
    if (!handle_.valid())
        throw Error("HDF5: use of an empty or closed handle" +
                    (path_.empty() ? std::string() : " '" + path_ + "'" + in_file(file_)));
    return handle_.get();
}

std::string Object::name() const {
    if (path_ == "/") return "/";
    return path_.substr(path_.rfind('/') + 1);
}

namespace {

struct AttrWrite {
    hid_t file_type;
    hid_t mem_type;
    hid_t space;
    const void* data;
};

// Creates the attribute, or replaces one of that name. Most attributes are
// new: it is created first, and looked up only if that fails.
template <class Doing>
void replace_attr(hid_t obj, const std::string& name, const AttrWrite& w, Doing&& what) {
    detail::Handle attr(H5Acreate2(obj, name.c_str(), w.file_type, w.space, H5P_DEFAULT, H5P_DEFAULT));
    if (!attr.valid()) {
        const std::string reason = hdf5_message();
        if (!check_tri(H5Aexists(obj, name.c_str()), what)) fail(what(), reason);
        check(H5Adelete(obj, name.c_str()), what);
        attr = detail::Handle(
            check_id(H5Acreate2(obj, name.c_str(), w.file_type, w.space, H5P_DEFAULT, H5P_DEFAULT), what));
    }
    static const std::uint64_t nothing = 0;  // HDF5 wants a buffer even for no elements
    check(H5Awrite(attr.get(), w.mem_type, w.data ? w.data : &nothing), what);
}

// Objects every call would otherwise make and close again, made once per
// process (each HDF5 call costs ~0.5-1 thousand instructions before it does
// anything: lock, error stack, API context). HDF5 only reads them and copies
// what it keeps. Function statics are destroyed before HDF5 shuts down at
// exit: HDF5 registered its atexit handler at its first call, before them.
hid_t shared_scalar_space() {
    static const detail::Handle space = [] {
        detail::Handle s(H5Screate(H5S_SCALAR));
        if (!s.valid()) fail_hdf5("make a scalar dataspace");
        return s;
    }();
    return space.get();
}
hid_t shared_utf8_type() {
    static const detail::Handle type = utf8_vlen_type();
    return type.get();
}
detail::Handle vector_space(std::size_t n) {
    const hsize_t dim = n;
    return detail::Handle(H5Screate_simple(1, &dim, nullptr));
}

// An open attribute with its stored type and number of elements.
struct AttrRead {
    detail::Handle attr, type;
    hsize_t count = 0;
};

AttrRead open_attr(hid_t obj, const std::string& name, const std::string& doing) {
    auto what = [&] { return doing; };
    if (!check_tri(H5Aexists(obj, name.c_str()), what)) fail(doing, "no such attribute");
    AttrRead a;
    a.attr = detail::Handle(check_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT), what));
    a.type = detail::Handle(check_id(H5Aget_type(a.attr.get()), what));
    detail::Handle space(check_id(H5Aget_space(a.attr.get()), what));
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    if (n < 0) fail_hdf5(doing);
    a.count = static_cast<hsize_t>(n);
    return a;
}

bool is_number(hid_t type) {
    const H5T_class_t c = H5Tget_class(type);
    return c == H5T_INTEGER || c == H5T_FLOAT;
}

// Integers of any stored width and sign, range-checked into Out.
template <class Out>
std::vector<Out> read_integers(const AttrRead& a, const std::string& doing) {
    if (H5Tget_class(a.type.get()) != H5T_INTEGER)
        fail(doing, "the attribute holds " + describe(a.type.get()) + ", not integers");
    const bool stored_signed = H5Tget_sign(a.type.get()) != H5T_SGN_NONE;
    std::vector<Out> out(a.count);
    if (a.count == 0) return out;
    auto what = [&] { return doing; };
    if (stored_signed) {
        std::vector<std::int64_t> v(a.count);
        check(H5Aread(a.attr.get(), H5T_NATIVE_INT64, v.data()), what);
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (std::is_unsigned_v<Out> && v[i] < 0)
                fail(doing, "value " + std::to_string(v[i]) + " is negative");
            out[i] = static_cast<Out>(v[i]);
        }
    } else {
        std::vector<std::uint64_t> v(a.count);
        check(H5Aread(a.attr.get(), H5T_NATIVE_UINT64, v.data()), what);
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] > static_cast<std::uint64_t>(std::numeric_limits<Out>::max()))
                fail(doing, "value " + std::to_string(v[i]) + " does not fit in int64");
            out[i] = static_cast<Out>(v[i]);
        }
    }
    return out;
}

std::vector<double> read_doubles(const AttrRead& a, const std::string& doing) {
    if (!is_number(a.type.get()))
        fail(doing, "the attribute holds " + describe(a.type.get()) + ", not numbers");
    std::vector<double> out(a.count);
    if (a.count > 0) check(H5Aread(a.attr.get(), H5T_NATIVE_DOUBLE, out.data()), [&] { return doing; });
    return out;
}

template <class T>
T single(std::vector<T> v, const std::string& doing) {
    if (v.size() != 1) fail(doing, "the attribute has " + std::to_string(v.size()) + " elements, not 1");
    return v[0];
}

}  // namespace

std::string Object::attr_doing(std::string_view verb, std::string_view name) const {
    return std::string(verb) + " attribute '" + std::string(name) + "' of '" + path_ + "'" + in_file(file_);
}

void Object::set_attr(std::string_view name, const std::string& value) {
    const hid_t obj = id();
    const hid_t type = shared_utf8_type();
    const char* p = value.c_str();
    replace_attr(obj, std::string(name), {type, type, shared_scalar_space(), &p},
                 [&] { return attr_doing("write", name); });
}

void Object::set_attr(std::string_view name, double value) {
    const hid_t obj = id();
    replace_attr(obj, std::string(name), {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, shared_scalar_space(), &value},
                 [&] { return attr_doing("write", name); });
}

void Object::set_attr(std::string_view name, std::int64_t value) {
    const hid_t obj = id();
    replace_attr(obj, std::string(name), {H5T_STD_I64LE, H5T_NATIVE_INT64, shared_scalar_space(), &value},
                 [&] { return attr_doing("write", name); });
}

void Object::set_attr(std::string_view name, std::uint64_t value) {
    const hid_t obj = id();
    replace_attr(obj, std::string(name), {H5T_STD_U64LE, H5T_NATIVE_UINT64, shared_scalar_space(), &value},
                 [&] { return attr_doing("write", name); });
}

void Object::set_attr(std::string_view name, const std::vector<double>& values) {
    const hid_t obj = id();
    detail::Handle space = vector_space(values.size());
    replace_attr(obj, std::string(name), {H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space.get(), values.data()},
                 [&] { return attr_doing("write", name); });
}

void Object::set_attr(std::string_view name, const std::vector<std::int64_t>& values) {
    const hid_t obj = id();
    detail::Handle space = vector_space(values.size());
    replace_attr(obj, std::string(name), {H5T_STD_I64LE, H5T_NATIVE_INT64, space.get(), values.data()},
                 [&] { return attr_doing("write", name); });
}

bool Object::has_attr(std::string_view name) const {
    const hid_t obj = id();
    const std::string n(name);
    return check_tri(H5Aexists(obj, n.c_str()), [&] { return attr_doing("look up", name); });
}

std::vector<std::string> Object::attr_names() const {
    const hid_t obj = id();
    std::vector<std::string> names;
    hsize_t at = 0;
    check(H5Aiterate2(obj, attr_index(obj), H5_ITER_INC, &at, collect_attr_name, &names),
          [&] { return "list attributes of '" + path_ + "'" + in_file(file_); });
    return names;
}

std::string Object::attr_string(std::string_view name) const {
    const hid_t obj = id();
    const std::string doing = attr_doing("read string", name);
    AttrRead a = open_attr(obj, std::string(name), doing);
    const hid_t type = a.type.get();
    if (H5Tget_class(type) != H5T_STRING)
        fail(doing, "the attribute holds " + describe(type) + ", not a string");
    if (a.count != 1) fail(doing, "the attribute has " + std::to_string(a.count) + " strings, not 1");
    auto what = [&] { return doing; };
    if (H5Tis_variable_str(type) > 0) {
        detail::Handle mem = utf8_vlen_type(H5Tget_cset(type));
        char* p = nullptr;
        check(H5Aread(a.attr.get(), mem.get(), &p), what);
        std::string s = p ? p : "";
        H5free_memory(p);
        return s;
    }
    const std::size_t size = H5Tget_size(type);
    std::string buf(size, '\0');
    check(H5Aread(a.attr.get(), type, buf.data()), what);
    return from_fixed(buf.data(), size, H5Tget_strpad(type));
}

double Object::attr_double(std::string_view name) const {
    const std::string doing = attr_doing("read number", name);
    return single(read_doubles(open_attr(id(), std::string(name), doing), doing), doing);
}

std::int64_t Object::attr_int(std::string_view name) const {
    const std::string doing = attr_doing("read integer", name);
    return single(read_integers<std::int64_t>(open_attr(id(), std::string(name), doing), doing), doing);
}

std::uint64_t Object::attr_uint(std::string_view name) const {
    const std::string doing = attr_doing("read unsigned integer", name);
    return single(read_integers<std::uint64_t>(open_attr(id(), std::string(name), doing), doing), doing);
}

std::vector<double> Object::attr_doubles(std::string_view name) const {
    const std::string doing = attr_doing("read numbers", name);
    return read_doubles(open_attr(id(), std::string(name), doing), doing);
}

std::vector<std::int64_t> Object::attr_ints(std::string_view name) const {
    const std::string doing = attr_doing("read integers", name);
    return read_integers<std::int64_t>(open_attr(id(), std::string(name), doing), doing);
}

// ---- Group -------------------------------------------------------------------

std::string Group::child_path(std::string_view name) const {
    if (!name.empty() && name.front() == '/') return std::string(name);
    return (path_ == "/" ? "/" : path_ + "/") + std::string(name);
}

bool Group::has(std::string_view name) const {
    const hid_t loc = id();
    auto what = [&] { return "look up '" + child_path(name) + "'" + in_file(file_); };
    if (name.empty()) return false;
    // H5Lexists fails, rather than answering no, when an inner group is missing.
    std::string prefix = name.front() == '/' ? "/" : "";
    std::size_t pos = 0;
    while (pos <= name.size()) {
        const std::size_t end = std::min(name.find('/', pos), name.size());
        const std::string_view part = name.substr(pos, end - pos);
        pos = end + 1;
        if (part.empty()) continue;
        if (!prefix.empty() && prefix.back() != '/') prefix += '/';
        prefix += part;
        if (!check_tri(H5Lexists(loc, prefix.c_str(), H5P_DEFAULT), what)) return false;
    }
    return check_tri(H5Oexists_by_name(loc, std::string(name).c_str(), H5P_DEFAULT), what);
}

std::vector<std::string> Group::children() const {
    const hid_t loc = id();
    auto what = [&] { return "list group '" + path_ + "'" + in_file(file_); };
    detail::Handle gcpl(check_id(H5Gget_create_plist(loc), what));
    unsigned flags = 0;
    check(H5Pget_link_creation_order(gcpl.get(), &flags), what);
    const H5_index_t index = (flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;
    std::vector<std::string> names;
    hsize_t at = 0;
    check(H5Literate(loc, index, H5_ITER_INC, &at, collect_link_name, &names), what);
    return names;
}

namespace {
// What H5Gcreate2 or H5Dcreate2 returned: a name already taken makes it
// fail, and only then is the name looked up, to say so.
template <class Doing>
hid_t created(hid_t id, const Group& parent, std::string_view name, Doing&& doing) {
    if (id >= 0) return id;
    const std::string reason = hdf5_message();
    if (parent.has(name)) fail(doing(), "the name is already taken");
    fail(doing(), reason);
}

// Creation property lists made once (see shared_scalar_space): links
// (groups) and attributes in creation order; floating-point datasets fill
// with NaN.
hid_t shared_group_create() {
    static const detail::Handle gcpl = [] {
        const std::string doing = "make a group creation property list";
        detail::Handle p(check_id(H5Pcreate(H5P_GROUP_CREATE), [&] { return doing; }));
        set_creation_order(p.get(), true, doing);
        return p;
    }();
    return gcpl.get();
}
template <class T>
detail::Handle dataset_create(const std::string& doing) {
    detail::Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), [&] { return doing; }));
    set_creation_order(dcpl.get(), false, doing);
    if constexpr (std::is_floating_point_v<T>) {
        const T nan = std::numeric_limits<T>::quiet_NaN();
        check(H5Pset_fill_value(dcpl.get(), Traits<T>::mem(), &nan), [&] { return doing; });
    }
    return dcpl;
}
template <class T>
hid_t shared_contiguous_create() {
    static const detail::Handle dcpl = dataset_create<T>("make a dataset creation property list");
    return dcpl.get();
}
}  // namespace

Group Group::create_group(std::string_view name) {
    const hid_t loc = id();
    const std::string path = child_path(name);
    auto what = [&] { return "create group '" + path + "'" + in_file(file_); };
    detail::Handle g(
        created(H5Gcreate2(loc, std::string(name).c_str(), H5P_DEFAULT, shared_group_create(), H5P_DEFAULT), *this,
                name, what));
    return Group(std::move(g), file_, path);
}

namespace {
detail::Handle open_object(hid_t loc, const std::string& name, H5I_type_t want, const std::string& doing) {
    detail::Handle obj(check_id(H5Oopen(loc, name.c_str(), H5P_DEFAULT), [&] { return doing; }));
    const H5I_type_t got = H5Iget_type(obj.get());
    if (got != want) fail(doing, want == H5I_GROUP ? "it is not a group" : "it is not a dataset");
    return obj;
}
}  // namespace

Group Group::open_group(std::string_view name) const {
    id();
    const std::string path = child_path(name);
    const std::string doing = "open group '" + path + "'" + in_file(file_);
    if (!has(name)) fail(doing, "no such group");
    return Group(open_object(id(), std::string(name), H5I_GROUP, doing), file_, path);
}

Dataset Group::open_dataset(std::string_view name) const {
    id();
    const std::string path = child_path(name);
    const std::string doing = "open dataset '" + path + "'" + in_file(file_);
    if (!has(name)) fail(doing, "no such dataset");
    return Dataset(open_object(id(), std::string(name), H5I_DATASET, doing), file_, path);
}

template <Element T>
Dataset Group::create_dataset(std::string_view name, std::vector<hsize_t> dims,
                              const DatasetOptions& options) {
    const hid_t loc = id();
    const std::string path = child_path(name);
    auto what = [&] {
        return "create dataset '" + path + "' " + Traits<T>::name + " " + shape_text(dims) + in_file(file_);
    };

    detail::Handle space(check_id(dims.empty()
                                      ? H5Screate(H5S_SCALAR)
                                      : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                                  what));
    detail::Handle own_dcpl;  // a chunked or early-allocated dataset's; other contiguous ones share one
    if (!options.chunk.empty() || options.allocate_early) own_dcpl = dataset_create<T>(what());
    const hid_t dcpl = own_dcpl.valid() ? own_dcpl.get() : shared_contiguous_create<T>();

    if (options.deflate < 0 || options.deflate > 9)
        fail(what(), "deflate level " + std::to_string(options.deflate) + " is outside 0..9");
    if (options.chunk.empty()) {
        if (options.deflate > 0 || options.shuffle)
            fail(what(), "deflate and shuffle need a chunked layout (set DatasetOptions::chunk)");
    } else {
        if (options.chunk.size() != dims.size())
            fail(what(), "chunk " + shape_text(options.chunk) + " has " +
                            std::to_string(options.chunk.size()) + " extents for a rank-" +
                            std::to_string(dims.size()) + " dataset");
        if (std::find(options.chunk.begin(), options.chunk.end(), hsize_t{0}) != options.chunk.end())
            fail(what(), "chunk " + shape_text(options.chunk) + " has a zero extent");
        // HDF5 cannot chunk a fixed zero-length axis: such a dataset holds
        // nothing, so it is stored contiguous and uncompressed.
        if (std::find(dims.begin(), dims.end(), hsize_t{0}) == dims.end()) {
            std::vector<hsize_t> chunk(dims.size());
            for (std::size_t i = 0; i < dims.size(); ++i) chunk[i] = std::min(options.chunk[i], dims[i]);
            check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), what);
            if (options.shuffle) check(H5Pset_shuffle(dcpl), what);
            if (options.deflate > 0) check(H5Pset_deflate(dcpl, static_cast<unsigned>(options.deflate)), what);
        }
    }
    if (options.allocate_early) check(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY), what);
    detail::Handle ds(created(H5Dcreate2(loc, std::string(name).c_str(), Traits<T>::file(), space.get(),
                                         H5P_DEFAULT, dcpl, H5P_DEFAULT),
                              *this, name, what));
    return Dataset(std::move(ds), file_, path);
}

Dataset Group::write_strings(std::string_view name, const std::vector<std::string>& values) {
    const hid_t loc = id();
    const std::string path = child_path(name);
    auto what = [&] { return "write strings '" + path + "'" + in_file(file_); };
    const hid_t type = shared_utf8_type();
    detail::Handle space(check_id(vector_space(values.size()).release(), what));
    // (integers' property list: attributes in creation order, no fill value)
    detail::Handle ds(created(H5Dcreate2(loc, std::string(name).c_str(), type, space.get(), H5P_DEFAULT,
                                         shared_contiguous_create<std::int64_t>(), H5P_DEFAULT),
                              *this, name, what));
    if (!values.empty()) {
        std::vector<const char*> ptrs(values.size());
        for (std::size_t i = 0; i < values.size(); ++i) ptrs[i] = values[i].c_str();
        check(H5Dwrite(ds.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), what);
    }
    return Dataset(std::move(ds), file_, path);
}

// ---- Dataset -----------------------------------------------------------------

std::vector<hsize_t> Dataset::dims() const {
    const hid_t ds = id();
    auto what = [&] { return "read the shape of dataset '" + path_ + "'" + in_file(file_); };
    detail::Handle space(check_id(H5Dget_space(ds), what));
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail_hdf5(what());
    std::vector<hsize_t> d(static_cast<std::size_t>(rank));
    if (rank > 0) check(H5Sget_simple_extent_dims(space.get(), d.data(), nullptr), what);
    return d;
}

namespace {
// The stored type must be T exactly: no silent narrowing or widening.
template <class T>
void require_type(hid_t ds, const std::string& doing) {
    detail::Handle type(check_id(H5Dget_type(ds), [&] { return doing; }));
    if (!holds<T>(type.get()))
        fail(doing, std::string("the dataset holds ") + describe(type.get()) + ", not " + Traits<T>::name);
}

// A selection of rows [first, first + n) of axis 0: file and memory spaces.
struct Rows {
    detail::Handle file_space, mem_space;
    hsize_t values = 0;
};

Rows select_rows(hid_t ds, const std::vector<hsize_t>& dims, hsize_t first, hsize_t n,
                 const std::string& doing) {
    auto what = [&] { return doing; };
    if (dims.empty()) fail(doing, "a scalar dataset has no rows");
    if (first > dims[0] || n > dims[0] - first)
        fail(doing, "rows past the end (dataset has " + std::to_string(dims[0]) + " rows)");
    Rows r;
    if (n == 0) return r;
    std::vector<hsize_t> start(dims.size(), 0), count = dims;
    start[0] = first;
    count[0] = n;
    r.values = product(count);
    r.file_space = detail::Handle(check_id(H5Dget_space(ds), what));
    check(
        H5Sselect_hyperslab(r.file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
        what);
    r.mem_space = detail::Handle(
        check_id(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), what));
    return r;
}

std::string size_mismatch(std::size_t got, hsize_t want, const std::string& shape) {
    return "got " + std::to_string(got) + " values for shape " + shape + " (" + std::to_string(want) +
           " values)";
}
}  // namespace

template <Element T>
void Dataset::write(std::span<const T> data) {
    const hid_t ds = id();
    const std::string doing = "write dataset '" + path_ + "'" + in_file(file_);
    require_type<T>(ds, doing);
    const auto d = dims();
    const hsize_t n = product(d);
    if (data.size() != n) fail(doing, size_mismatch(data.size(), n, shape_text(d)));
    if (n == 0) return;
    check(H5Dwrite(ds, Traits<T>::mem(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), [&] { return doing; });
}

template <Element T>
Dataset Group::write_dataset(std::string_view name, std::span<const T> data, std::vector<hsize_t> dims,
                             const DatasetOptions& options) {
    const hsize_t n = product(dims);
    const std::string shape = shape_text(dims);
    Dataset ds = create_dataset<T>(name, std::move(dims), options);
    auto what = [&] { return "write dataset '" + ds.path_ + "'" + in_file(file_); };
    if (data.size() != n) fail(what(), size_mismatch(data.size(), n, shape));
    if (n > 0) check(H5Dwrite(ds.id(), Traits<T>::mem(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()), what);
    return ds;
}

template <Element T>
void Dataset::write_rows(hsize_t first_row, hsize_t nrows, std::span<const T> data) {
    const hid_t ds = id();
    const std::string doing = "write dataset '" + path_ + "' " + rows_text(first_row, nrows) + in_file(file_);
    require_type<T>(ds, doing);
    auto d = dims();
    Rows r = select_rows(ds, d, first_row, nrows, doing);
    d[0] = nrows;
    if (data.size() != r.values) fail(doing, size_mismatch(data.size(), r.values, shape_text(d)));
    if (r.values == 0) return;
    check(H5Dwrite(ds, Traits<T>::mem(), r.mem_space.get(), r.file_space.get(), H5P_DEFAULT, data.data()),
          [&] { return doing; });
}

template <Element T>
std::vector<T> Dataset::read() const {
    std::vector<T> out;
    read_into(out);
    return out;
}

template <Element T>
void Dataset::read_into(std::vector<T>& out) const {
    const hid_t ds = id();
    const std::string doing = "read dataset '" + path_ + "'" + in_file(file_);
    require_type<T>(ds, doing);
    out.resize(product(dims()));
    if (!out.empty())
        check(H5Dread(ds, Traits<T>::mem(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
              [&] { return doing; });
}

template <Element T>
std::vector<T> Dataset::read_rows(hsize_t first_row, hsize_t nrows) const {
    const hid_t ds = id();
    const std::string doing = "read dataset '" + path_ + "' " + rows_text(first_row, nrows) + in_file(file_);
    require_type<T>(ds, doing);
    Rows r = select_rows(ds, dims(), first_row, nrows, doing);
    std::vector<T> out(r.values);
    if (!out.empty())
        check(H5Dread(ds, Traits<T>::mem(), r.mem_space.get(), r.file_space.get(), H5P_DEFAULT, out.data()),
              [&] { return doing; });
    return out;
}

std::vector<std::string> Dataset::read_strings() const {
    const hid_t ds = id();
    const std::string doing = "read strings '" + path_ + "'" + in_file(file_);
    auto what = [&] { return doing; };
    detail::Handle type(check_id(H5Dget_type(ds), what));
    if (H5Tget_class(type.get()) != H5T_STRING)
        fail(doing, "the dataset holds " + describe(type.get()) + ", not strings");
    const auto d = dims();
    if (d.size() > 1) fail(doing, "the dataset is not 1-D: shape " + shape_text(d));
    const hsize_t n = product(d);
    std::vector<std::string> out;
    out.reserve(n);
    if (n == 0) return out;
    if (H5Tis_variable_str(type.get()) > 0) {
        detail::Handle mem = utf8_vlen_type(H5Tget_cset(type.get()));
        detail::Handle space(check_id(H5Dget_space(ds), what));
        std::vector<char*> ptrs(n, nullptr);
        check(H5Dread(ds, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), what);
        for (char* p : ptrs) out.emplace_back(p ? p : "");
        H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    } else {
        const std::size_t size = H5Tget_size(type.get());
        std::vector<char> buf(n * size);
        check(H5Dread(ds, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), what);
        const H5T_str_t pad = H5Tget_strpad(type.get());
        for (hsize_t i = 0; i < n; ++i) out.push_back(from_fixed(buf.data() + i * size, size, pad));
    }
    return out;
}

// ---- chunks filtered off HDF5's thread -----------------------------------------

std::size_t ChunkLayout::chunk_bytes() const { return static_cast<std::size_t>(product(chunk)) * element_size; }

ChunkLayout Dataset::chunk_layout() const {
    const hid_t ds = id();
    const std::string doing = "read the chunk layout of dataset '" + path_ + "'" + in_file(file_);
    auto what = [&] { return doing; };
    ChunkLayout c;
    detail::Handle dcpl(check_id(H5Dget_create_plist(ds), what));
    detail::Handle type(check_id(H5Dget_type(ds), what));
    c.element_size = H5Tget_size(type.get());
    const H5D_layout_t layout = H5Pget_layout(dcpl.get());
    if (layout < 0) fail_hdf5(doing);
    if (layout != H5D_CHUNKED) return c;
    const int rank = H5Pget_chunk(dcpl.get(), 0, nullptr);
    if (rank < 0) fail_hdf5(doing);
    c.chunk.resize(static_cast<std::size_t>(rank));
    check(H5Pget_chunk(dcpl.get(), rank, c.chunk.data()), what);
    const int nfilters = H5Pget_nfilters(dcpl.get());
    if (nfilters < 0) fail_hdf5(doing);
    for (int i = 0; i < nfilters; ++i) {
        unsigned flags = 0, config = 0, cd[8] = {};
        std::size_t ncd = 8;
        const H5Z_filter_t f =
            H5Pget_filter2(dcpl.get(), static_cast<unsigned>(i), &flags, &ncd, cd, 0, nullptr, &config);
        if (f < 0) fail_hdf5(doing);
        if (f == H5Z_FILTER_SHUFFLE && i == 0) {
            c.shuffle = true;
        } else if (f == H5Z_FILTER_DEFLATE && i == nfilters - 1 && ncd >= 1 && cd[0] >= 1 && cd[0] <= 9) {
            c.deflate = static_cast<int>(cd[0]);
        } else {
            fail(doing, "filter " + std::to_string(f) + " at position " + std::to_string(i) +
                            " is not one that filter_chunk applies (shuffle, then deflate)");
        }
    }
    c.fill.assign(c.element_size, 0);  // HDF5's default fill: zero bytes
    H5D_fill_value_t defined{};
    check(H5Pfill_value_defined(dcpl.get(), &defined), what);
    if (defined == H5D_FILL_VALUE_USER_DEFINED) check(H5Pget_fill_value(dcpl.get(), type.get(), c.fill.data()), what);
    detail::Handle dapl(check_id(H5Dget_access_plist(ds), what));
    std::size_t nslots = 0, nbytes = 0;
    double w0 = 0;
    check(H5Pget_chunk_cache(dapl.get(), &nslots, &nbytes, &w0), what);
    c.cache_bytes = nbytes;
    return c;
}

std::vector<unsigned char> filter_chunk(const ChunkLayout& layout, std::span<const unsigned char> raw) {
    if (raw.size() != layout.chunk_bytes())
        throw Error("HDF5: cannot filter a chunk: got " + std::to_string(raw.size()) + " bytes for a chunk of " +
                    std::to_string(layout.chunk_bytes()));
    // H5Zshuffle.c: byte k of every element together, elements in order;
    // nothing is done for 1-byte elements or a single element.
    const std::size_t size = layout.element_size, n = size ? raw.size() / size : 0;
    std::vector<unsigned char> shuffled;
    std::span<const unsigned char> in = raw;
    if (layout.shuffle && size > 1 && n > 1) {
        shuffled.resize(raw.size());
        for (std::size_t k = 0; k < size; ++k)
            for (std::size_t i = 0; i < n; ++i) shuffled[k * n + i] = raw[i * size + k];
        in = shuffled;
    }
    if (layout.deflate == 0) return {in.begin(), in.end()};
    // H5Zdeflate.c: compress2 at the dataset's level, into a buffer larger
    // than zlib's bound (so it cannot fail for want of space).
    uLongf out_size = compressBound(static_cast<uLong>(in.size()));
    std::vector<unsigned char> out(out_size);
    const int status = compress2(out.data(), &out_size, in.data(), static_cast<uLong>(in.size()), layout.deflate);
    if (status != Z_OK) throw Error("HDF5: cannot filter a chunk: zlib's compress2 returned " + std::to_string(status));
    out.resize(out_size);
    return out;
}

void Dataset::write_chunk(const ChunkLayout& layout, std::span<const hsize_t> offset,
                          std::span<const unsigned char> filtered) {
    const hid_t ds = id();
    const std::vector<hsize_t> at(offset.begin(), offset.end());
    const std::string doing = "write the chunk at " + shape_text(at) + " of dataset '" + path_ + "'" + in_file(file_);
    if (layout.chunk.empty()) fail(doing, "the dataset is not chunked");
    if (offset.size() != layout.chunk.size())
        fail(doing, "the offset has " + std::to_string(offset.size()) + " coordinates for chunks of rank " +
                        std::to_string(layout.chunk.size()));
    for (std::size_t k = 0; k < offset.size(); ++k)
        if (offset[k] % layout.chunk[k] != 0)
            fail(doing, "the offset is not on a chunk boundary " + shape_text(layout.chunk));
    if (filtered.size() > std::numeric_limits<std::uint32_t>::max()) fail(doing, "the chunk is larger than 4 GiB");
    // Filter mask 0: every filter of the pipeline was applied.
    check(H5Dwrite_chunk(ds, H5P_DEFAULT, 0, offset.data(), filtered.size(), filtered.data()), [&] { return doing; });
}

void Dataset::make_dimension_scale(std::string_view dim_name) {
    const hid_t ds = id();
    const std::string doing = "make dataset '" + path_ + "' a dimension scale" + in_file(file_);
    const std::string own = name();
    if (!dim_name.empty() && dim_name != own)
        fail(doing, "dimension name '" + std::string(dim_name) + "' differs from the dataset name '" + own +
                        "' (h5netcdf and xarray name a dimension after its dataset)");
    const auto d = dims();
    if (d.size() != 1) fail(doing, "a dimension scale must be 1-D, this one has shape " + shape_text(d));
    check(H5DSset_scale(ds, own.c_str()), [&] { return doing; });
}

bool Dataset::is_dimension_scale() const {
    const hid_t ds = id();
    return check_tri(H5DSis_scale(ds),
                     [&] { return "check whether '" + path_ + "' is a dimension scale" + in_file(file_); });
}

void Dataset::check_attachable(const Dataset& scale, unsigned dim_index, const std::string& doing) const {
    check_attachable(scale, dim_index, doing, dims(), is_dimension_scale(), scale.is_dimension_scale(), scale.dims());
}

void Dataset::check_attachable(const Dataset& scale, unsigned dim_index, const std::string& doing,
                               const std::vector<hsize_t>& d, bool self_is_scale, bool scale_is_scale,
                               const std::vector<hsize_t>& sd) const {
    if (scale.file_ != file_) fail(doing, "the scale is in another file, '" + scale.file_ + "'");
    if (dim_index >= d.size()) fail(doing, "the dataset has rank " + std::to_string(d.size()));
    if (self_is_scale) fail(doing, "the dataset is itself a dimension scale");
    if (!scale_is_scale)
        fail(doing, "'" + scale.path_ + "' is not a dimension scale (call make_dimension_scale first)");
    if (sd.size() != 1 || sd[0] != d[dim_index])
        fail(doing, "the scale has shape " + shape_text(sd) + " but axis " + std::to_string(dim_index) +
                        " has length " + std::to_string(d[dim_index]));
    const std::string scale_group = parent_of(scale.path_), own_group = parent_of(path_);
    if (!(scale_group == "/" || own_group == scale_group || own_group.starts_with(scale_group + "/")))
        fail(doing, "the scale's group '" + scale_group +
                        "' is neither this dataset's group nor an ancestor of it "
                        "(h5netcdf and xarray look dimensions up only there)");
}

void Dataset::attach_scale(const Dataset& scale, unsigned dim_index) {
    const hid_t ds = id();
    const hid_t sc = scale.id();
    const std::string doing = "attach dimension scale '" + scale.path_ + "' to axis " +
                              std::to_string(dim_index) + " of dataset '" + path_ + "'" + in_file(file_);
    auto what = [&] { return doing; };
    check_attachable(scale, dim_index, doing);
    // H5DSis_attached opens every dataset the scale lists, so attaching n
    // datasets to one scale would cost O(n^2): ask it only when the axis
    // already has a scale (the rare case).
    const int already = H5DSget_num_scales(ds, dim_index);
    if (already < 0) fail_hdf5(doing);
    if (already > 0) {
        if (check_tri(H5DSis_attached(ds, sc, dim_index), what)) return;
        fail(doing, "the axis already has a dimension scale");
    }
    check(H5DSattach_scale(ds, sc, dim_index), what);
}

void Dataset::attach_scales(std::span<const ScaleLink> links) {
    if (links.empty()) return;
    // Checks, and the links grouped by dataset and by scale (in link order);
    // what the checks read from the file is read once per dataset and scale.
    struct Seen {
        std::size_t index;
        std::vector<hsize_t> dims;
        bool is_scale;
    };
    std::unordered_map<const Dataset*, Seen> seen_ds, seen_sc;
    std::vector<const Dataset*> datasets, scales;
    std::vector<std::vector<std::ptrdiff_t>> per_dataset;  // [dataset][axis] -> scale index, -1 for none
    std::vector<std::vector<std::pair<const Dataset*, unsigned>>> per_scale;  // [scale] -> (dataset, axis)
    for (const auto& l : links) {
        auto doing = [&] {
            return "attach dimension scale '" + l.scale->path_ + "' to axis " + std::to_string(l.dim_index) +
                   " of dataset '" + l.dataset->path_ + "'" + in_file(l.dataset->file_);
        };
        auto [ds_it, new_ds] = seen_ds.try_emplace(l.dataset);
        if (new_ds) {
            ds_it->second = {datasets.size(), l.dataset->dims(), l.dataset->is_dimension_scale()};
            datasets.push_back(l.dataset);
            if (check_tri(H5Aexists(l.dataset->id(), DIMENSION_LIST), doing))
                fail(doing(), "the dataset already has dimension scales (attach_scales is for new datasets)");
            per_dataset.emplace_back(ds_it->second.dims.size(), -1);
        }
        auto [sc_it, new_sc] = seen_sc.try_emplace(l.scale);
        if (new_sc) {
            sc_it->second = {scales.size(), l.scale->dims(), l.scale->is_dimension_scale()};
            scales.push_back(l.scale);
            per_scale.emplace_back();
            // its REFERENCE_LIST is written whole below, so it must have none yet
            if (check_tri(H5Aexists(l.scale->id(), REFERENCE_LIST), doing))
                fail(doing(), "the scale is attached to datasets already (attach_scales is for new scales)");
        }
        l.dataset->check_attachable(*l.scale, l.dim_index, doing(), ds_it->second.dims, ds_it->second.is_scale,
                                    sc_it->second.is_scale, sc_it->second.dims);
        auto& axis = per_dataset[ds_it->second.index][l.dim_index];
        if (axis >= 0) fail(doing(), "the axis already has a dimension scale");
        axis = static_cast<std::ptrdiff_t>(sc_it->second.index);
        per_scale[sc_it->second.index].emplace_back(l.dataset, l.dim_index);
    }

    // The library makes the first attachment; its two attributes' file types
    // are the ones every attribute written below uses.
    const auto& first = links.front();
    first.dataset->attach_scale(*first.scale, first.dim_index);
    const std::string doing = "write the dimension-scale attributes of " + std::to_string(links.size()) +
                              " attachments (first: '" + first.dataset->path_ + "')" + in_file(first.dataset->file_);
    auto what = [&] { return doing; };
    auto attr_type = [&](hid_t obj, const char* name) {
        detail::Handle a(check_id(H5Aopen(obj, name, H5P_DEFAULT), what));
        return detail::Handle(check_id(H5Aget_type(a.get()), what));
    };
    const detail::Handle dl_file_type = attr_type(first.dataset->id(), DIMENSION_LIST);
    const detail::Handle rl_file_type = attr_type(first.scale->id(), REFERENCE_LIST);
    check(H5Adelete(first.dataset->id(), DIMENSION_LIST), what);
    check(H5Adelete(first.scale->id(), REFERENCE_LIST), what);

    auto object_ref = [&](const Dataset& d) {
        hobj_ref_t ref{};
        check(H5Rcreate(&ref, d.id(), ".", H5R_OBJECT, -1), what);
        return ref;
    };
    auto write_attr = [&](hid_t obj, const char* name, hid_t file_type, hid_t mem_type, hsize_t n, const void* buf) {
        detail::Handle space(check_id(H5Screate_simple(1, &n, nullptr), what));
        detail::Handle a(check_id(H5Acreate2(obj, name, file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), what));
        check(H5Awrite(a.get(), mem_type, buf), what);
    };

    // DIMENSION_LIST: per axis, the references of its scales (here 0 or 1).
    std::vector<hobj_ref_t> scale_refs;
    scale_refs.reserve(scales.size());
    for (const auto* sc : scales) scale_refs.push_back(object_ref(*sc));
    const detail::Handle dl_mem_type(check_id(H5Tvlen_create(H5T_STD_REF_OBJ), what));
    for (std::size_t di = 0; di < datasets.size(); ++di) {
        const auto& axes = per_dataset[di];
        std::vector<hvl_t> vl(axes.size());
        for (std::size_t a = 0; a < axes.size(); ++a) {
            const bool has = axes[a] >= 0;
            vl[a].len = has ? 1 : 0;
            vl[a].p = has ? &scale_refs[static_cast<std::size_t>(axes[a])] : nullptr;
        }
        write_attr(datasets[di]->id(), DIMENSION_LIST, dl_file_type.get(), dl_mem_type.get(), vl.size(), vl.data());
    }

    // REFERENCE_LIST: per scale, (dataset, axis) of every attachment.
    struct Entry {
        hobj_ref_t ref;
        int dim;
    };
    const detail::Handle rl_mem_type(check_id(H5Tcreate(H5T_COMPOUND, sizeof(Entry)), what));
    check(H5Tinsert(rl_mem_type.get(), "dataset", HOFFSET(Entry, ref), H5T_STD_REF_OBJ), what);
    check(H5Tinsert(rl_mem_type.get(), "dimension", HOFFSET(Entry, dim), H5T_NATIVE_INT), what);
    for (std::size_t si = 0; si < scales.size(); ++si) {
        std::vector<Entry> entries;
        entries.reserve(per_scale[si].size());
        for (const auto& [d, axis] : per_scale[si]) entries.push_back({object_ref(*d), static_cast<int>(axis)});
        write_attr(scales[si]->id(), REFERENCE_LIST, rl_file_type.get(), rl_mem_type.get(), entries.size(),
                   entries.data());
    }
}

// ---- File --------------------------------------------------------------------

namespace {
// File access: a chunk cache of kChunkCacheBytes per open dataset instead of
// HDF5's 1 MiB. A writer keeps hundreds of datasets open, and each cache fills
// up as rows are written: with 1 MiB each, resident memory grew with the
// replication count (580 MiB after 20 000 replications). This holds a
// dataset's chunk being filled (chunks are sized to ~64 KiB,
// see "Chunking" above); fully written chunks are evicted first (w0 = 1).
constexpr std::size_t kChunkCacheBytes = 96 * 1024;
template <class Doing>
detail::Handle file_access(Doing&& what) {
    detail::Handle fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), what));
    check(H5Pset_cache(fapl.get(), 0, 521, kChunkCacheBytes, 1.0), what);
    return fapl;
}
}  // namespace

File File::create(const std::filesystem::path& path) {
    quiet();
    const std::string p = path.string();
    const std::string doing = "create file '" + p + "'";
    auto what = [&] { return doing; };
    detail::Handle fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), what));
    set_creation_order(fcpl.get(), true, doing);  // for the root group
    const auto fapl = file_access(what);
    return File(detail::Handle(check_id(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), what)), p);
}

File File::create_new(const std::filesystem::path& path) {
    quiet();
    const std::string p = path.string();
    const std::string doing = "create file '" + p + "'";
    auto what = [&] { return doing; };
    detail::Handle fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), what));
    set_creation_order(fcpl.get(), true, doing);
    const auto fapl = file_access(what);
    return File(detail::Handle(check_id(H5Fcreate(p.c_str(), H5F_ACC_EXCL, fcpl.get(), fapl.get()), what)), p);
}

File File::open_read(const std::filesystem::path& path) {
    quiet();
    const std::string p = path.string();
    return File(detail::Handle(check_id(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                                        [&] { return "open file '" + p + "' for reading"; })),
                p);
}

File File::open_rw(const std::filesystem::path& path) {
    quiet();
    const std::string p = path.string();
    auto what = [&] { return "open file '" + p + "' for reading and writing"; };
    const auto fapl = file_access(what);
    return File(detail::Handle(check_id(H5Fopen(p.c_str(), H5F_ACC_RDWR, fapl.get()), what)), p);
}

Group File::root() const {
    quiet();
    const std::string doing = "open the root group of '" + path_ + "'";
    if (!handle_.valid()) fail(doing, "the file is closed");
    return Group(detail::Handle(check_id(H5Gopen2(handle_.get(), "/", H5P_DEFAULT), [&] { return doing; })),
                 path_, "/");
}

void File::flush() {
    quiet();
    const std::string doing = "flush file '" + path_ + "'";
    if (!handle_.valid()) fail(doing, "the file is closed");
    check(H5Fflush(handle_.get(), H5F_SCOPE_GLOBAL), [&] { return doing; });
}

void File::close() {
    quiet();
    if (!handle_.valid()) return;
    const std::string doing = "close file '" + path_ + "'";
    const ssize_t open = H5Fget_obj_count(
        handle_.get(), H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_DATATYPE | H5F_OBJ_ATTR | H5F_OBJ_LOCAL);
    if (open < 0) fail_hdf5(doing);
    if (open > 0)
        fail(doing, std::to_string(open) +
                        " group(s) or dataset(s) of it are still open; let them go out of scope first, "
                        "so that the file is complete when close() returns");
    const hid_t fid = handle_.release();
    check(H5Fclose(fid), [&] { return doing; });
}

// ---- instantiations ------------------------------------------------------------

#define ARTEL_H5_INSTANTIATE(T)                                                       \
    template Dataset Group::create_dataset<T>(std::string_view, std::vector<hsize_t>, \
                                              const DatasetOptions&);                 \
    template Dataset Group::write_dataset<T>(std::string_view, std::span<const T>,    \
                                             std::vector<hsize_t>, const DatasetOptions&); \
    template void Dataset::write<T>(std::span<const T>);                              \
    template void Dataset::write_rows<T>(hsize_t, hsize_t, std::span<const T>);       \
    template std::vector<T> Dataset::read<T>() const;                                 \
    template void Dataset::read_into<T>(std::vector<T>&) const;                       \
    template std::vector<T> Dataset::read_rows<T>(hsize_t, hsize_t) const;

ARTEL_H5_INSTANTIATE(double)
ARTEL_H5_INSTANTIATE(float)
ARTEL_H5_INSTANTIATE(std::int32_t)
ARTEL_H5_INSTANTIATE(std::int64_t)
ARTEL_H5_INSTANTIATE(std::uint8_t)
ARTEL_H5_INSTANTIATE(std::uint32_t)
ARTEL_H5_INSTANTIATE(std::uint64_t)
#undef ARTEL_H5_INSTANTIATE

}  // namespace artel::h5
