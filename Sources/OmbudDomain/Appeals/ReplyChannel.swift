/// The way the answer goes back to the applicant (59-FZ art. 10 §4: in the form the appeal came in, or as asked).
public enum ReplyChannel {
    /// The channel asked for, else the inbound one when it can carry an answer, else e-mail when there is an address,
    /// else a letter when there is a postal address; nil when there is no way to answer (art. 11: anonymous appeals).
    public static func choose(requested: AppealChannel?, inbound: AppealChannel, hasEmail: Bool, hasPostalAddress: Bool) -> AppealChannel? {
        if let requested { return requested }
        switch inbound {
        case .email where hasEmail: return .email
        case .social, .sms: return inbound
        default: break
        }
        if hasEmail { return .email }
        if hasPostalAddress { return .letter }
        return nil
    }
}
