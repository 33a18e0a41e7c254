import Foundation
import OmbudDomain
import Vapor

/// Dates and numbers as each interface language writes them: Russian `28.01.2026`, English ISO `2026-01-28`, Persian the
/// Solar Hijri date in Persian digits (`۱۴۰۴/۱۱/۰۸`). Codes, phones and numbers stay in Latin digits except in Persian.
struct LocalFormat {
    let language: UILanguage
    let zone: TimeZone

    func date(_ day: CivilDate) -> String {
        switch language {
        case .ru: String(format: "%02d.%02d.%04d", day.day, day.month, day.year)
        case .en: day.iso
        case .fa: SolarHijriDate.persianDigits(SolarHijriDate(day).iso.replacingOccurrences(of: "-", with: "/"))
        }
    }

    func date(_ instant: Date) -> String { date(CivilDate.of(instant, in: zone)) }

    func dateTime(_ instant: Date) -> String {
        let seconds = Int(instant.timeIntervalSince(CivilDate.of(instant, in: zone).start(in: zone)))
        let time = String(format: "%02d:%02d", seconds / 3600, seconds % 3600 / 60)
        return date(instant) + " " + number(time)
    }

    /// A due moment: at midnight it ends the day before, which is the day shown; otherwise (hour limits) date and time.
    func due(_ instant: Date) -> String {
        let midnight = CivilDate.of(instant, in: zone).start(in: zone) == instant
        return midnight ? date(instant.addingTimeInterval(-1)) : dateTime(instant)
    }

    func number(_ text: String) -> String { language == .fa ? SolarHijriDate.persianDigits(text) : text }

    /// A day without its year, for a chart's axis: `3.12` (ru), `12/3` (en), `۹/۱۶` in the Solar Hijri calendar (fa).
    func shortDay(_ day: CivilDate) -> String {
        switch language {
        case .fa:
            let jalali = SolarHijriDate(day)
            return number("\(jalali.month)/\(jalali.day)")
        case .ru: return "\(day.day).\(String(format: "%02d", day.month))"
        case .en: return "\(day.month)/\(day.day)"
        }
    }

    /// A share as a whole percentage: `96 %` (ru), `96%` (en), `٪۹۶` (fa).
    func percent(_ share: Double) -> String {
        let whole = String(Int((share * 100).rounded()))
        switch language {
        case .ru: return whole + "\u{00A0}%"
        case .en: return whole + "%"
        case .fa: return "٪" + number(whole)
        }
    }

    /// A number with one or two decimals and the language's decimal mark.
    func decimal(_ value: Double, places: Int = 1) -> String {
        let text = String(format: "%.\(places)f", value)
        switch language {
        case .ru: return text.replacingOccurrences(of: ".", with: ",")
        case .en: return text
        case .fa: return number(text).replacingOccurrences(of: ".", with: "٫")
        }
    }
}

extension Request {
    var format: LocalFormat { LocalFormat(language: language, zone: settings.timeZone) }
}
